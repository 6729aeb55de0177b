//! The wasm-bindgen facade (filled in below).
