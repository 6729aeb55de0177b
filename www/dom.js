// Small DOM helpers shared by every module: build elements once, then update
// them in place with setters that skip the DOM when nothing changed (a frame
// touches only what moved). Text always goes through textContent.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Create an HTML element.
 * props: { class, text, attrs: {name: value}, on: {event: fn}, style: {prop: value} }
 * children: elements or strings (strings become text nodes).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  apply(el, props);
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return el;
}

/** Create an SVG element with attributes. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") el.textContent = String(v);
    else if (k === "class") el.setAttribute("class", v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c) el.append(c);
  }
  return el;
}

function apply(el, props) {
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = String(v);
    else if (k === "attrs") for (const [a, av] of Object.entries(v)) el.setAttribute(a, String(av));
    else if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === "style") Object.assign(el.style, v);
    else el[k] = v;
  }
}

const cache = new WeakMap();
function slot(el) {
  let c = cache.get(el);
  if (!c) {
    c = Object.create(null);
    cache.set(el, c);
  }
  return c;
}

/** Set textContent only when it changed. */
export function setText(el, text) {
  const c = slot(el);
  const t = String(text);
  if (c.$text !== t) {
    c.$text = t;
    el.textContent = t;
  }
}

/** Set an attribute only when it changed; null or undefined removes it. */
export function setAttr(el, name, value) {
  const c = slot(el);
  const v = value === null || value === undefined ? null : String(value);
  if (c[name] !== v) {
    c[name] = v;
    if (v === null) el.removeAttribute(name);
    else el.setAttribute(name, v);
  }
}

/** Set an element's class attribute only when it changed. */
export function setClass(el, value) {
  setAttr(el, "class", value);
}

/** Set one inline style property only when it changed. */
export function setStyle(el, prop, value) {
  const c = slot(el);
  const key = "style:" + prop;
  if (c[key] !== value) {
    c[key] = value;
    el.style.setProperty(prop, value);
  }
}

/** Show or hide an element (the hidden attribute), only when it changed. */
export function setHidden(el, hidden) {
  const c = slot(el);
  if (c.$hidden !== hidden) {
    c.$hidden = hidden;
    el.hidden = hidden;
  }
}

/** Cut a long string for display, saying how much was left out. */
export function clip(text, max) {
  if (text.length <= max) return text;
  return text.slice(0, max - 1) + "…";
}
