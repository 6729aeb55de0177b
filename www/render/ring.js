// The hero: nodes on a ring, links between every pair (one lane per
// direction), messages moving along the lanes, clients in the middle.
// Geometry is in CSS pixels (the viewBox follows the element's size), so text
// stays the same size on a phone and a desktop. Everything drawn comes from
// the view; the SVG is built once per cluster and updated in place.

import { s, setAttr, setText, setClass } from "../dom.js";
import { termColor, glyphText, nodeName, MSG_STYLE, GONE_STYLE, OK, NO } from "./palette.js";

const LANE = 4; // half the gap between the two lanes of a link

/** Which direction of a link is cut, in words. */
export function linkWords(a, b, cutSet) {
  const ab = cutSet.has(a + ">" + b);
  const ba = cutSet.has(b + ">" + a);
  const w = (x, y, c) => `${nodeName(x)}→${nodeName(y)} ${c ? "cut" : "healthy"}`;
  return { ab, ba, text: `${w(a, b, ab)}, ${w(b, a, ba)}` };
}

export class Ring {
  /**
   * @param {SVGSVGElement} svg links and clients
   * @param {HTMLCanvasElement} canvas messages in flight
   * @param {SVGSVGElement} top the nodes
   * @param {{onSelect(id:number):void, onLink(a:number,b:number,x:number,y:number):void}} cb
   */
  constructor(svg, canvas, top, cb) {
    this.svg = svg;
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.dpr = 1;
    // Nodes live in a second SVG laid over the first: drawn above the
    // links and messages, and first in the tab order.
    this.top = top;
    this.cb = cb;
    this.n = 0;
    this.R = 30;
    this.TR = 37;
    this.w = 600;
    this.h = 440;
    this.clientDots = new Map();
    this.layers = {
      links: s("g", { class: "links" }),
      hub: s("g", { class: "hub", "aria-hidden": "true" }),
      nodes: s("g", { class: "nodes" }),
    };
    svg.append(this.layers.links, this.layers.hub);
    top.append(this.layers.nodes);
    this.hubCircle = s("circle", { class: "hub-ring", r: 46 });
    this.hubLabel = s("text", { class: "hub-label", "text-anchor": "middle", dy: "0.35em", text: "clients" });
    this.layers.hub.append(this.hubCircle, this.hubLabel);
    this.resize = new ResizeObserver(() => this.layout());
    this.resize.observe(svg);
  }

  /** Build the nodes and links for a cluster of `n` nodes. */
  setup(n) {
    this.n = n;
    // Smaller circles on a phone.
    this.compact = this.svg.clientWidth > 0 && this.svg.clientWidth < 480;
    this.R = this.compact ? 24 : 30;
    this.TR = this.R + 7;
    this.top.classList.toggle("compact", this.compact);
    this.layers.links.replaceChildren();
    this.layers.nodes.replaceChildren();
    for (const d of this.clientDots.values()) d.g.remove();
    this.clientDots.clear();
    this.nodes = [];
    for (let i = 1; i <= n; i++) this.nodes.push(this.makeNode(i));
    this.links = [];
    this.cutKey = null;
    for (let a = 1; a <= n; a++) {
      for (let b = a + 1; b <= n; b++) this.links.push(this.makeLink(a, b));
    }
    this.layout();
  }

  makeNode(id) {
    const g = s("g", { class: "node", tabindex: 0, role: "button", "data-node": id });
    const halo = s("circle", { class: "halo", r: this.TR + 6 });
    const track = s("circle", { class: "timer-track", r: this.TR });
    const timer = s("circle", {
      class: "timer",
      r: this.TR,
      pathLength: 100,
      transform: "rotate(-90)",
      "stroke-dasharray": "0 100",
    });
    const body = s("circle", { class: "body", r: this.R });
    const inner = s("circle", { class: "inner", r: this.R - 5 });
    const crown = s("text", { class: "crown", "text-anchor": "middle", y: -this.R - 12, text: "♛", "aria-hidden": "true" });
    const name = s("text", { class: "name", "text-anchor": "middle", y: -3, text: nodeName(id) });
    const term = s("text", { class: "term", "text-anchor": "middle", y: 14, text: "T0" });
    const cross = s("text", { class: "cross", "text-anchor": "middle", y: 12, text: "✕", "aria-hidden": "true" });
    const role = s("text", { class: "role", "text-anchor": "middle", y: this.R + 23 });
    const sub = s("text", { class: "sub", "text-anchor": "middle", y: this.R + 38 });
    // Spaces between the labels (not drawn) keep their words apart for
    // tools that read the visible text; the aria-label starts with it.
    const sp = () => document.createTextNode(" ");
    g.append(halo, track, timer, body, inner, crown, sp(), cross, sp(), name, sp(), term, sp(), role, sp(), sub);
    const open = () => {
      const nd = this.nodes[id - 1];
      this.cb.onSelect(id, nd.x, nd.y, nd.x >= this.cx);
    };
    g.addEventListener("click", open);
    g.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        open();
      }
    });
    this.layers.nodes.append(g);
    return { id, g, timer, body, inner, crown, cross, name, term, role, sub, x: 0, y: 0 };
  }

  makeLink(a, b) {
    const g = s("g", { class: "link", tabindex: 0, role: "button" });
    const hit = s("line", { class: "hit" });
    const ab = s("line", { class: "lane" });
    const ba = s("line", { class: "lane" });
    const barAB = s("line", { class: "bar" });
    const barBA = s("line", { class: "bar" });
    g.append(hit, ab, ba, barAB, barBA);
    const link = { a, b, g, hit, ab, ba, barAB, barBA, mid: { x: 0, y: 0 } };
    const open = () => this.cb.onLink(a, b, link.mid.x, link.mid.y);
    g.addEventListener("click", open);
    g.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        open();
      }
    });
    this.layers.links.append(g);
    return link;
  }

  /** Recompute positions from the element's size. */
  layout() {
    const r = this.svg.getBoundingClientRect();
    if (r.width < 10 || r.height < 10) return;
    if (this.n && (r.width < 480) !== this.compact) {
      this.setup(this.n); // calls layout again with the new sizes
      return;
    }
    this.w = r.width;
    this.h = r.height;
    this.svg.setAttribute("viewBox", `0 0 ${this.w} ${this.h}`);
    this.top.setAttribute("viewBox", `0 0 ${this.w} ${this.h}`);
    this.dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(this.w * this.dpr);
    this.canvas.height = Math.round(this.h * this.dpr);
    // Nodes on an ellipse that fills the box: room above for the crown,
    // below for the role and vote labels, beside for the labels' width.
    const n = Math.max(1, this.n);
    const angles = [];
    for (let i = 0; i < n; i++) angles.push(-Math.PI / 2 + (i * 2 * Math.PI) / n);
    const sins = angles.map(Math.sin);
    const coss = angles.map(Math.cos);
    const spanY = Math.max(1, Math.max(...sins) - Math.min(...sins));
    const spanX = Math.max(1, Math.max(...coss) - Math.min(...coss));
    const top = this.R + 26;
    const bottom = this.R + 44;
    const side = this.R + 46;
    let ry = Math.max(40, (this.h - top - bottom) / spanY);
    const rx = Math.max(40, Math.min((this.w - 2 * side) / spanX, ry * 1.6));
    ry = Math.min(ry, rx * 1.15);
    const cx = this.w / 2;
    const used = ry * spanY + top + bottom;
    const cy = (this.h - used) / 2 + top - ry * Math.min(...sins);
    this.cx = cx;
    this.cy = n === 1 ? this.h / 2 + 40 : cy;
    for (const node of this.nodes || []) {
      const i = node.id - 1;
      node.x = n === 1 ? cx : cx + rx * coss[i];
      node.y = n === 1 ? this.h / 2 - 60 : cy + ry * sins[i];
      node.g.setAttribute("transform", `translate(${node.x.toFixed(1)},${node.y.toFixed(1)})`);
    }
    for (const l of this.links || []) this.layoutLink(l);
    this.hubCircle.setAttribute("cx", this.cx);
    this.hubCircle.setAttribute("cy", this.cy);
    this.hubLabel.setAttribute("x", this.cx);
    this.hubLabel.setAttribute("y", this.cy);
    this.clientLayoutKey = "";
  }

  layoutLink(l) {
    const A = this.nodes[l.a - 1];
    const B = this.nodes[l.b - 1];
    l.geomAB = this.lane(A, B);
    l.geomBA = this.lane(B, A);
    line(l.hit, A.x, A.y, B.x, B.y);
    line(l.ab, l.geomAB.x1, l.geomAB.y1, l.geomAB.x2, l.geomAB.y2);
    line(l.ba, l.geomBA.x1, l.geomBA.y1, l.geomBA.x2, l.geomBA.y2);
    bar(l.barAB, l.geomAB);
    bar(l.barBA, l.geomBA);
    l.mid = { x: (A.x + B.x) / 2, y: (A.y + B.y) / 2 };
  }

  /** The lane from node P to node Q: starts and ends at the circles' edges,
   * shifted to the right of the direction of travel. */
  lane(P, Q) {
    const dx = Q.x - P.x;
    const dy = Q.y - P.y;
    const len = Math.hypot(dx, dy) || 1;
    const ux = dx / len;
    const uy = dy / len;
    const ox = -uy * LANE;
    const oy = ux * LANE;
    const gap = this.TR + 4;
    return {
      x1: P.x + ux * gap + ox,
      y1: P.y + uy * gap + oy,
      x2: Q.x - ux * gap + ox,
      y2: Q.y - uy * gap + oy,
      ux,
      uy,
    };
  }

  /** What a box opened over the ring should not cover, in the ring's
   * pixels: each node's circle (with its timer ring), its role and vote
   * labels, and its crown when it wears one. */
  nodeBoxes() {
    const parts = [];
    for (const nd of this.nodes || []) {
      const e = this.TR + 4;
      parts.push({ id: nd.id, kind: "circle", x1: nd.x - e, y1: nd.y - e, x2: nd.x + e, y2: nd.y + e });
      for (const [kind, el] of [["label", nd.role], ["label", nd.sub], ["crown", nd.crown]]) {
        if (getComputedStyle(el).display === "none" || !el.textContent) continue;
        let b;
        try {
          b = el.getBBox();
        } catch {
          continue; // not rendered
        }
        if (!b.width) continue;
        parts.push({ id: nd.id, kind, x1: nd.x + b.x, y1: nd.y + b.y, x2: nd.x + b.x + b.width, y2: nd.y + b.y + b.height });
      }
    }
    return parts;
  }

  /** Where client `id` sits in the hub. */
  clientPos(id) {
    const d = this.clientDots.get(id);
    return d ? d : { x: this.cx, y: this.cy };
  }

  layoutClients(clients, consoleIds) {
    const key = clients.map((c) => c.id).join(",") + "|" + [...consoleIds].join(",") + "|" + this.w;
    if (key === this.clientLayoutKey) return;
    this.clientLayoutKey = key;
    const seen = new Set();
    const k = clients.length;
    const rr = k > 12 ? 40 : 34;
    clients.forEach((c, i) => {
      seen.add(c.id);
      let d = this.clientDots.get(c.id);
      if (!d) {
        const g = s("g", { class: "client" });
        const dot = s("circle", { r: 5 });
        const label = s("text", { class: "client-label", "text-anchor": "middle" });
        g.append(dot, label);
        this.layers.hub.append(g);
        d = { g, dot, label, x: 0, y: 0 };
        this.clientDots.set(c.id, d);
      }
      const ang = -Math.PI / 2 + (i * 2 * Math.PI) / Math.max(1, k);
      d.x = this.cx + rr * Math.cos(ang);
      d.y = this.cy + rr * Math.sin(ang);
      const mine = consoleIds.has(c.id);
      d.g.setAttribute("class", mine ? "client console" : "client");
      d.dot.setAttribute("cx", d.x.toFixed(1));
      d.dot.setAttribute("cy", d.y.toFixed(1));
      d.label.setAttribute("x", d.x.toFixed(1));
      d.label.setAttribute("y", (d.y - 9).toFixed(1));
      d.label.textContent = mine ? "C" + c.id : "";
    });
    for (const [id, d] of this.clientDots) {
      if (!seen.has(id)) {
        d.g.remove();
        this.clientDots.delete(id);
      }
    }
    this.hubLabel.textContent = k ? "clients" : "no clients";
  }

  /** Draw one view. */
  render(view, selected, consoleIds) {
    if (view.nodes.length !== this.n) this.setup(view.nodes.length);
    const now = view.now_ms;
    const cutKey = view.cuts.join(";");
    const majority = Math.floor(view.nodes.length / 2) + 1;
    const lead = (view.leader != null && view.nodes[view.leader - 1]) || null;

    for (const nv of view.nodes) this.renderNode(nv, now, selected, majority, lead);

    if (cutKey !== this.cutKey) {
      this.cutKey = cutKey;
      this.renderLinks(new Set(view.cuts.map(([a, b]) => a + ">" + b)));
    }

    this.layoutClients(view.clients, consoleIds);
    this.renderMessages(view, now);
  }

  renderLinks(cutSet) {
    for (const l of this.links) {
      const { ab, ba, text } = linkWords(l.a, l.b, cutSet);
      setClass(l.g, "link" + (ab && ba ? " cut-both" : ab || ba ? " cut-one" : ""));
      setClass(l.ab, ab ? "lane cut" : "lane");
      setClass(l.ba, ba ? "lane cut" : "lane");
      setClass(l.barAB, ab ? "bar on" : "bar");
      setClass(l.barBA, ba ? "bar on" : "bar");
      setAttr(l.g, "aria-label", `Link ${nodeName(l.a)}–${nodeName(l.b)}: ${text}`);
    }
  }

  /** `leader`: the node view of the newest term's leader (view.leader), or
   * null; a node that
   * still leads an older term (cut off by a partition) is drawn as a stale
   * leader, so two crowns never look like two equal leaders. */
  renderNode(nv, now, selected, majority, leader) {
    const node = this.nodes[nv.id - 1];
    const color = termColor(nv.term);
    const role = nv.up ? nv.role : "down";
    const stale = role === "leader" && leader !== null && leader.id !== nv.id;
    setClass(node.g, `node role-${role}${stale ? " stale-leader" : ""}${selected === nv.id ? " selected" : ""}`);
    setAttr(node.body, "stroke", nv.up ? color : null);
    setAttr(node.inner, "stroke", nv.up ? color : null);
    setAttr(node.term, "fill", nv.up ? color : null);
    setText(node.term, "T" + nv.term);
    let roleText;
    let sub;
    if (!nv.up) {
      roleText = "DOWN";
      sub = `disk: T${nv.durable.term}, ${plural(nv.durable.log_len, "entry", "entries")}`;
    } else if (stale) {
      roleText = "old leader";
      sub = `newer: T${leader.term}`;
    } else if (role === "leader") {
      roleText = "LEADER";
      sub = `commit ${nv.commit_index}`;
    } else if (role === "candidate") {
      roleText = "candidate";
      sub = `votes ${nv.votes.length}/${majority}`;
    } else {
      roleText = "follower";
      sub = nv.voted_for ? `voted ${nodeName(nv.voted_for)}` : "no vote";
    }
    setText(node.role, roleText);
    setText(node.sub, sub);
    let frac = 0;
    let timerText = "";
    if (nv.up && nv.timer_deadline_ms != null && nv.timer_start_ms != null) {
      const span = nv.timer_deadline_ms - nv.timer_start_ms;
      const left = Math.max(0, nv.timer_deadline_ms - now);
      frac = span > 0 ? Math.min(1, left / span) : 0;
      // Rounded so that the label does not change every frame.
      timerText = `, election timer about ${Math.round(left / 50) * 50} ms left`;
    }
    setAttr(node.timer, "stroke-dasharray", `${(frac * 100).toFixed(1)} 100`);
    setClass(node.timer, !timerText || frac <= 0.005 ? "timer off" : frac < 0.25 ? "timer low" : "timer");
    // The accessible name starts with the visible text, then explains.
    const visible = `${nodeName(nv.id)} T${nv.term} ${roleText} ${sub}`;
    const staleText = stale ? `still leads term ${nv.term}, but ${nodeName(leader.id)} leads a newer term; it steps down when it hears from it, ` : "";
    const more = nv.up ? `${staleText}term ${nv.term}, commit index ${nv.commit_index}${timerText}` : `crashed; term ${nv.term} on disk`;
    setAttr(node.g, "aria-label", `${visible}. ${more}${selected === nv.id ? ", selected" : ""}. Press Enter for actions.`);
  }

  /** Geometry of one flight: start point, end point. */
  path(f) {
    if (!f.from_client && !f.to_client) {
      const a = Math.min(f.from, f.to);
      const b = Math.max(f.from, f.to);
      const l = this.links[linkIndex(a, b, this.n)];
      if (!l) return null;
      return f.from === a ? l.geomAB : l.geomBA;
    }
    const node = this.nodes[(f.from_client ? f.to : f.from) - 1];
    if (!node) return null;
    const c = this.clientPos(f.from_client ? f.from : f.to);
    const dx = node.x - c.x;
    const dy = node.y - c.y;
    const len = Math.hypot(dx, dy) || 1;
    const ux = dx / len;
    const uy = dy / len;
    const ex = node.x - ux * (this.TR + 3);
    const ey = node.y - uy * (this.TR + 3);
    return f.from_client
      ? { x1: c.x, y1: c.y, x2: ex, y2: ey }
      : { x1: ex, y1: ey, x2: c.x, y2: c.y };
  }

  /** The nodes at the ends of a flight's path (null for a client end). */
  ends(f) {
    const node = (id) => this.nodes[id - 1] || null;
    return [f.from_client ? null : node(f.from), f.to_client ? null : node(f.to)];
  }

  /**
   * How far along path `p` a tag `w` px wide must be, from its start (or
   * from its end, `fromEnd`), to clear node `N`: its circle and timer
   * ring, the crown above and the role and vote labels below. Tags start
   * and stop there rather than at the circle's edge, so the messages a node
   * has just sent do not pile up on its labels. Cached per lane and width
   * (lanes are rebuilt by layout()).
   */
  clearance(p, N, w, fromEnd) {
    if (!N) return 0;
    const key = (fromEnd ? "e" : "s") + w;
    if (!p.clear) p.clear = new Map();
    let d = p.clear.get(key);
    if (d !== undefined) return d;
    const len = Math.hypot(p.x2 - p.x1, p.y2 - p.y1) || 1;
    const ux = ((p.x2 - p.x1) / len) * (fromEnd ? -1 : 1);
    const uy = ((p.y2 - p.y1) / len) * (fromEnd ? -1 : 1);
    const x0 = fromEnd ? p.x2 : p.x1;
    const y0 = fromEnd ? p.y2 : p.y1;
    const hw = w / 2 + 2;
    const hh = 10;
    const R = this.R;
    const lab = this.compact ? 34 : 40; // half the labels' usual width
    const blocks = [
      [-lab, R + 8, lab, R + 44], // role and vote labels
      [-12, -R - 32, 12, -R - 6], // crown
    ];
    d = 0;
    for (; d < len / 2; d += 2) {
      const cx = x0 + ux * d - N.x;
      const cy = y0 + uy * d - N.y;
      // The circle and its timer ring: nearest point of the tag's box.
      const nx = Math.max(cx - hw, Math.min(0, cx + hw));
      const ny = Math.max(cy - hh, Math.min(0, cy + hh));
      if (Math.hypot(nx, ny) < this.TR + 3) continue;
      if (blocks.some(([a, b, c, e]) => cx + hw > a && cx - hw < c && cy + hh > b && cy - hh < e)) continue;
      break;
    }
    p.clear.set(key, d);
    return d;
  }

  /** Messages are painted on a canvas between the links and the nodes:
   * dozens move every frame, and a canvas repaint is far cheaper than
   * moving as many SVG groups. They are decoration for sighted users; the
   * narration says the same in words.
   *
   * A tag rides the part of its lane clear of both nodes' circles and
   * labels (see clearance). Tags that would overlap on the same lane (a
   * burst of heartbeats, a duplicate beside its original) are stacked
   * sideways, away from the opposite lane, so each stays readable. */
  renderMessages(view, now) {
    const ctx = this.ctx;
    if (!ctx) return;
    const dpr = this.dpr;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.font = GLYPH_FONT;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    const tags = [];
    const place = (f, p, t, gone, alpha) => {
      const w = tagWidth(f, gone);
      const [A, B] = this.ends(f);
      const len = Math.hypot(p.x2 - p.x1, p.y2 - p.y1) || 1;
      const a = this.clearance(p, A, w, false);
      const b = this.clearance(p, B, w, true);
      // Too short a lane to clear both: ride its middle.
      const s0 = a + b < len ? a : len / 2;
      const s1 = a + b < len ? len - b : len / 2;
      const along = s0 + (s1 - s0) * t;
      tags.push({ f, p, along, w, gone, alpha, x: p.x1 + ((p.x2 - p.x1) * along) / len, y: p.y1 + ((p.y2 - p.y1) * along) / len, ux: (p.x2 - p.x1) / len, uy: (p.y2 - p.y1) / len });
    };
    for (const f of view.flights) {
      const p = this.path(f);
      if (!p) continue;
      const span = f.arrive_ms - f.sent_ms;
      const t = span > 0 ? Math.max(0, Math.min(1, (now - f.sent_ms) / span)) : 1;
      place(f, p, t, false, 1);
    }
    // Dropped messages: they set off, then vanish with a mark saying why.
    const st = view.settings;
    const trip = Math.max(1, (st.latency_min_ms + st.latency_max_ms) / 2);
    for (const f of view.drops) {
      const p = this.path(f);
      if (!p) continue;
      let stop;
      let flyMs;
      if (f.dropped === "receiver down") {
        stop = 1;
        flyMs = 0;
      } else {
        stop = f.dropped === "cut" ? 0.8 : 0.3 + ((f.id * 7919) % 40) / 100;
        flyMs = trip * stop;
      }
      const fadeMs = trip * 1.5 + 20;
      const start = f.dropped === "receiver down" ? f.arrive_ms : f.sent_ms;
      const age = now - start;
      if (age < 0 || age > flyMs + fadeMs) continue;
      const gone = age >= flyMs;
      const t = gone ? stop : (age / flyMs) * stop;
      const alpha = gone ? Math.max(0.15, 1 - (age - flyMs) / fadeMs) : 1;
      place(f, p, t, gone, alpha);
    }
    // Stack tags that overlap on the same lane: sideways, one tag height
    // each, at most STACK deep.
    const lanes = new Map();
    for (const g of tags) {
      let list = lanes.get(g.p);
      if (!list) lanes.set(g.p, (list = []));
      list.push(g);
    }
    for (const list of lanes.values()) {
      if (list.length > 1) {
        list.sort((x, y) => x.along - y.along);
        const ends = []; // per level: where the last tag on it ends
        for (const g of list) {
          let lvl = 0;
          while (lvl < STACK && ends[lvl] !== undefined && ends[lvl] > g.along - g.w / 2 - 2) lvl++;
          if (lvl === STACK) lvl = 0;
          ends[lvl] = g.along + g.w / 2;
          if (lvl) {
            g.x += -g.uy * 17 * lvl;
            g.y += g.ux * 17 * lvl;
          }
        }
      }
      for (const g of list) drawGlyph(ctx, g.x, g.y, g.f, g.gone, g.alpha, g.w);
    }
  }
}

/** How many tags deep a lane's overlapping messages are stacked. */
const STACK = 3;

const GLYPH_FONT = '700 10.5px ui-monospace, "SFMono-Regular", "JetBrains Mono", Menlo, Consolas, monospace';

function tagText(f, gone) {
  return gone ? "✕ " + (f.dropped === "receiver down" ? "down" : f.dropped) : glyphText(f);
}

/** A tag's width in px. */
function tagWidth(f, gone) {
  return 10 + tagText(f, gone).length * 7;
}

/** One message: a rounded tag with its kind's colours (see palette.js). */
function drawGlyph(ctx, x, y, f, gone, alpha, w) {
  const text = tagText(f, gone);
  const st = gone ? GONE_STYLE : MSG_STYLE[f.kind] || MSG_STYLE.AppendEntries;
  ctx.globalAlpha = alpha;
  ctx.beginPath();
  ctx.roundRect(x - w / 2, y - 8, w, 16, 5);
  ctx.fillStyle = st.fill;
  ctx.fill();
  ctx.lineWidth = f.duplicate && !gone ? 2 : 1.5;
  ctx.strokeStyle = f.duplicate && !gone ? "#ffffff" : st.stroke;
  if (f.duplicate && !gone) ctx.setLineDash([3, 2]);
  ctx.stroke();
  if (f.duplicate && !gone) ctx.setLineDash([]);
  ctx.fillStyle = gone ? st.text : f.ok === true && st.reply ? OK : f.ok === false && st.reply ? NO : st.text;
  ctx.fillText(text, x, y + 0.5);
  if (f.duplicate && !gone) {
    ctx.fillStyle = "#e8edf7";
    ctx.textAlign = "left";
    ctx.fillText("×2", x + w / 2 + 2, y - 7);
    ctx.textAlign = "center";
  }
  ctx.globalAlpha = 1;
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function linkIndex(a, b, n) {
  // Links are built for a = 1..n, b = a+1..n in order.
  let i = 0;
  for (let x = 1; x < a; x++) i += n - x;
  return i + (b - a - 1);
}

function line(el, x1, y1, x2, y2) {
  el.setAttribute("x1", x1.toFixed(1));
  el.setAttribute("y1", y1.toFixed(1));
  el.setAttribute("x2", x2.toFixed(1));
  el.setAttribute("y2", y2.toFixed(1));
}

/** A short bar across the lane just before the receiver: "blocked here". */
function bar(el, g) {
  const t = 0.86;
  const x = g.x1 + (g.x2 - g.x1) * t;
  const y = g.y1 + (g.y2 - g.y1) * t;
  const px = -g.uy * 7;
  const py = g.ux * 7;
  line(el, x - px, y - py, x + px, y + py);
}

