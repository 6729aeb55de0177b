// Colours and labels shared by the renderers. Colour never carries meaning
// alone: every term colour comes with a "T<n>" label, every message kind with
// its own short tag and shape, every link state with a dash pattern or mark.

/** Eight term hues that stay apart on the dark background (and in print). */
const TERM_HUES = [
  "#5aa9ff", // blue
  "#ffa24c", // orange
  "#57d38c", // green
  "#a6e22e", // lime (not red: red means cut, down and rejected)
  "#c59bff", // violet
  "#f4d35e", // yellow
  "#4fd6d0", // teal
  "#ff9ad5", // pink
];

/** The colour of term `t` (grey for term 0). */
export function termColor(t) {
  if (!t) return "#7d8aa3";
  return TERM_HUES[(t - 1) % TERM_HUES.length];
}

/** The tag each message kind wears on the ring. */
const TAGS = {
  RequestVote: "RV",
  RequestVoteReply: "V",
  AppendEntries: "AE",
  Heartbeat: "HB",
  AppendEntriesReply: "A",
  ClientRequest: "C",
  ClientReply: "R",
};

/** How each kind is painted on the ring's canvas (the legend's CSS uses
 * the same colours). `reply`: the text is green for yes, red for no. */
export const MSG_STYLE = {
  RequestVote: { fill: "#ffb547", stroke: "#ffd79a", text: "#2b1a00" },
  RequestVoteReply: { fill: "#1a2340", stroke: "#ffb547", text: "#e8edf7", reply: true },
  AppendEntries: { fill: "#5aa9ff", stroke: "#bcdcff", text: "#03142b" },
  Heartbeat: { fill: "#16223b", stroke: "#8fb8e8", text: "#8fb8e8" },
  AppendEntriesReply: { fill: "#1a2340", stroke: "#5aa9ff", text: "#e8edf7", reply: true },
  ClientRequest: { fill: "#c59bff", stroke: "#e6d5ff", text: "#1e0d3a" },
  ClientReply: { fill: "#1f1638", stroke: "#c59bff", text: "#e8edf7", reply: true },
};
export const GONE_STYLE = { fill: "rgba(80, 16, 24, 0.92)", stroke: "#ff7070", text: "#ffc4c4" };
export const OK = "#44d19a";
export const NO = "#ff7070";

/** The short text shown on a message glyph (replies carry ✓ or ✗). */
export function glyphText(f) {
  const base = TAGS[f.kind] || "?";
  if (f.ok === true) return base + "✓";
  if (f.ok === false) return base + (f.kind === "ClientReply" ? "↪" : "✗");
  return base;
}

/** Node id as the page writes it. */
export const nodeName = (id) => "S" + id;
