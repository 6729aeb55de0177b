// Every call into wasm goes through `guard`: a facade error (a JsError with a
// readable message) comes back as a value for the caller to show inline; a
// panic (the Rust panic hook records its message, then wasm traps) raises a
// visible banner and stops the loop, never a silently frozen page.

let wasm = null;
let onPanic = () => {};
let panicked = false;

/** Set up with the wasm module's exports and a panic handler. */
export function initGuard(module, handler) {
  wasm = module;
  onPanic = handler;
}

/** Has wasm panicked since the last reset? */
export function hasPanicked() {
  return panicked;
}

/** After the page made a fresh Simulation, calls may go on. */
export function clearPanic() {
  panicked = false;
}

function readPanic() {
  try {
    return wasm && wasm.lastPanic ? wasm.lastPanic() : null;
  } catch {
    return null;
  }
}

let seenPanic = null;

/**
 * Run `fn` (which calls the facade). Returns `{ ok: true, value }` or
 * `{ ok: false, error }` where `error` is a readable message. A panic is
 * reported to the handler as well.
 */
export function guard(fn) {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    const p = readPanic();
    if (p && p !== seenPanic) {
      seenPanic = p;
      panicked = true;
      onPanic(p);
      return { ok: false, error: "the simulator panicked: " + p, panic: true };
    }
    if (e instanceof WebAssembly.RuntimeError || (e && /unreachable|recursive use|null pointer/i.test(String(e.message)))) {
      panicked = true;
      onPanic(String(e && e.message ? e.message : e));
      return { ok: false, error: String(e && e.message ? e.message : e), panic: true };
    }
    return { ok: false, error: e && e.message ? e.message : String(e) };
  }
}
