// The saved cluster's IndexedDB I/O: one database per saved cluster, opened,
// created or upgraded here, written in one transaction per write set, read
// back in one. Pure I/O: it knows the schema (database names, versions and
// stores) but not the records. What to store, as IndexedDB requests, comes
// from the wasm (`enablePersistence`, `takeDurableWrites`), and what a read returns goes, untouched, to
// the wasm's `assembleLoaded`, which checks it (src/web/idb.rs: the record
// formats, and why the I/O is here and not in Rust). It imports nothing, so
// it also runs on its own (tests/idb.rs drives it in Chrome and Firefox).
//
// Schema: database `raftlab-<name>` at version 2, object stores
// `hard_state`, `log`, `snapshots`, `sim` and `calls`, keys out of line,
// every value JSON text (the table is in src/web/idb.rs). Version 1 had only
// `hard_state` and `log`; opening it upgrades it in place (the stores that
// are missing are created, the others and their data kept). A database of a
// newer version is refused (NewerSchemaError) and left untouched. An open
// store closes itself when another tab upgrades or deletes its database
// (later calls fail with ClosedError), so that it never blocks them.
//
// Every failure is an Error whose `name` says what happened:
// IndexedDBUnavailableError, NewerSchemaError, BlockedError,
// QuotaExceededError, ClosedError, InvalidInputError, CorruptError or
// StorageError (the wasm's own errors use the same names).
//
//   const store = await Store.open("demo");            // creates or upgrades
//   const last = await store.write(sim.takeDurableWrites()); // resolves once durable
//   const raw = await store.load();                    // for assembleLoaded

/** The schema version this page reads and writes. */
const SCHEMA_VERSION = 2;
/** Every saved cluster's database name starts with this. */
const DB_PREFIX = "raftlab-";
/** The stores of the current schema (src/web/idb.rs's STORES). */
const STORES = Object.freeze(["hard_state", "log", "snapshots", "sim", "calls"]);
/** The stores `load()` reads. */
const READ = ["sim", "hard_state", "log", "calls"];

// ----------------------------------------------------------------- errors

function fail(name, message) {
  const e = new Error(message);
  e.name = name;
  return e;
}

const quote = (s) => JSON.stringify(String(s));

function unavailable(why) {
  return fail("IndexedDBUnavailableError", `IndexedDB is not available (${why}); the cluster runs in memory only and a reload starts over`);
}

function blocked(name, doing) {
  return fail("BlockedError", `${doing} the saved cluster ${quote(name)} is blocked by another tab that keeps it open; close the other raftlab tabs and try again`);
}

function closed(why) {
  return fail("ClosedError", `the database connection is closed (${why}); it was deleted or upgraded in another tab, or closed. Open the store again`);
}

function invalid(why) {
  return fail("InvalidInputError", `invalid input: ${why}`);
}

function corrupt(record, detail) {
  return fail("CorruptError", `stored record ${record} is corrupt: ${detail}`);
}

function storage(why) {
  return fail("StorageError", `storage failed: ${why}`);
}

/** Classify a thrown exception, or the `error` of a request or transaction, made while doing `what`. */
function classify(what, e) {
  const name = (e && e.name) || "Error";
  const message = (e && e.message) || String(e);
  if (name === "QuotaExceededError") {
    return fail("QuotaExceededError", `the browser's storage quota is used up (${what}: ${message}); nothing of this write was stored. Delete saved clusters or free space, or carry on in memory`);
  }
  if (name === "InvalidStateError") return closed(`${what}: ${message}`);
  return storage(`${what} failed: ${name}: ${message}`);
}

/** The error of a request that fired `error`. */
function requestError(req, what) {
  return req.error ? classify(what, req.error) : storage(`${what} failed`);
}

/** A key as it names a record: `3`, `[2, 17]`, `"meta"`. */
function showKey(k) {
  return Array.isArray(k) ? `[${k.map(showKey).join(", ")}]` : JSON.stringify(k);
}

// ----------------------------------------------------------------- opening

/** The IndexedDB factory of this window or worker. */
function factory() {
  let f;
  try {
    f = globalThis.indexedDB;
  } catch (e) {
    throw unavailable((e && e.message) || String(e));
  }
  if (f === null || f === undefined) {
    throw unavailable("this browser offers no indexedDB here: private browsing or storage disabled");
  }
  return f;
}

/** The database name of saved cluster `name` (1 to 100 characters once trimmed). */
function dbName(name) {
  const n = String(name).trim();
  if (n.length === 0 || [...n].length > 100) throw invalid("a saved cluster's name has 1 to 100 characters");
  return DB_PREFIX + n;
}

/**
 * Open database `full` with `factory().open(full, version?)`: resolves to
 * `{ db }`, or `{ error: "error" | "blocked", req }`. A connection that
 * opens after `blocked` (once the other tab lets go) is closed at once:
 * nobody waits for it any more. `onupgrade(req)` runs in `upgradeneeded`.
 */
function request(full, version, onupgrade) {
  return new Promise((resolve, reject) => {
    let req;
    try {
      req = version === undefined ? factory().open(full) : factory().open(full, version);
    } catch (e) {
      reject(e && e.name === "IndexedDBUnavailableError" ? e : unavailable((e && e.message) || String(e)));
      return;
    }
    let settled = false;
    req.onupgradeneeded = () => onupgrade(req);
    req.onsuccess = () => {
      if (settled) {
        req.result.close();
        return;
      }
      settled = true;
      resolve({ db: req.result });
    };
    req.onerror = (ev) => {
      ev.preventDefault();
      if (settled) return;
      settled = true;
      resolve({ error: "error", req });
    };
    req.onblocked = () => {
      if (settled) return;
      settled = true;
      resolve({ error: "blocked", req });
    };
  });
}

/** Database `full` at its own version, without creating it: `null` if there is none. */
async function openExisting(full, name) {
  let created = false;
  // No version asked: an upgrade means the database did not exist. Abort
  // it, so that asking does not create it.
  const r = await request(full, undefined, (req) => {
    created = true;
    req.transaction.abort();
  });
  if (r.db) return r.db;
  if (r.error === "blocked") throw blocked(name, "opening");
  if (created) return null;
  throw requestError(r.req, "opening");
}

/**
 * Create the stores missing at an upgrade (from nothing, or from version 1,
 * which had only `hard_state` and `log`). Existing stores and their data are
 * kept: version 1's keys and values already have today's shape.
 */
function upgrade(db) {
  for (const s of STORES) {
    if (!db.objectStoreNames.contains(s)) db.createObjectStore(s);
  }
}

// ----------------------------------------------------------------- the store

/** One saved cluster's database, open. */
export class Store {
  /** The schema version this page reads and writes. */
  static get schemaVersion() {
    return SCHEMA_VERSION;
  }

  /**
   * Open (creating, or upgrading from an older schema) the saved cluster
   * `name`. Rejects with IndexedDBUnavailableError, NewerSchemaError
   * (nothing is changed), BlockedError (another tab holds an old version
   * open), CorruptError, InvalidInputError or StorageError.
   */
  static async open(name) {
    const full = dbName(name);
    const trimmed = String(name).trim();
    let upgradeError = null;
    const r = await request(full, SCHEMA_VERSION, (req) => {
      try {
        upgrade(req.result);
      } catch (e) {
        upgradeError = classify("upgrading", e);
        req.transaction.abort();
      }
    });
    if (r.error === "blocked") throw blocked(trimmed, "opening");
    if (r.error) {
      if (upgradeError) throw upgradeError;
      if (r.req.error && r.req.error.name === "VersionError") {
        // Read the newer version for the message; best effort.
        let found = null;
        try {
          const db = await openExisting(full, trimmed);
          if (db) {
            found = db.version;
            db.close();
          }
        } catch {
          found = null;
        }
        throw fail(
          "NewerSchemaError",
          `the saved cluster ${quote(trimmed)} was written by a newer raftlab (schema ${found === null ? "a newer version" : `version ${found}`}; this page knows version ${SCHEMA_VERSION}); reload the newest page, or delete the saved cluster. Nothing was changed`
        );
      }
      throw requestError(r.req, "opening");
    }
    const db = r.db;
    const missing = STORES.find((s) => !db.objectStoreNames.contains(s));
    if (missing !== undefined) {
      const v = db.version;
      db.close();
      throw corrupt(`store ${missing}`, `the database is at version ${v} but lacks this store; delete the saved cluster`);
    }
    return new Store(db, trimmed);
  }

  /** Whether a saved cluster `name` exists (of any version); never creates one. */
  static async exists(name) {
    const db = await openExisting(dbName(name), String(name).trim());
    if (db === null) return false;
    db.close();
    return true;
  }

  /** Delete the saved cluster `name` (no error if there is none). Open stores of it close themselves. */
  static deleteCluster(name) {
    return new Promise((resolve, reject) => {
      const full = dbName(name);
      let req;
      try {
        req = factory().deleteDatabase(full);
      } catch (e) {
        reject(e && e.name === "IndexedDBUnavailableError" ? e : unavailable((e && e.message) || String(e)));
        return;
      }
      req.onsuccess = () => resolve();
      req.onerror = (ev) => {
        ev.preventDefault();
        reject(requestError(req, "deleting"));
      };
      req.onblocked = () => reject(blocked(String(name).trim(), "deleting (it will go once the other tabs close it)"));
    });
  }

  /** Use `Store.open`. */
  constructor(db, name) {
    /** The IDBDatabase connection (for tests and tools). */
    this.db = db;
    /** Whether the connection is closed (by `close()`, or by another tab's upgrade or delete). */
    this.closed = false;
    /** The saved cluster's name (without the `raftlab-` prefix). */
    this.name = name;
    // Let another tab upgrade or delete this database: close ours instead
    // of blocking it.
    db.onversionchange = () => this.close();
  }

  /** A transaction over `stores`; ClosedError once the connection is closed. */
  transaction(stores, mode) {
    if (this.closed) throw closed(`cluster ${quote(this.name)}`);
    try {
      return this.db.transaction(stores, mode);
    } catch (e) {
      throw classify("starting a transaction", e);
    }
  }

  /**
   * Apply the requests that `sim.enablePersistence()` or
   * `sim.takeDurableWrites()` returned (JSON text,
   * `{"last": id | null, "ops": [["clear", store] | ["put", store, key, value]
   * | ["delete", store, fromKey, toKey]…]}`) in ONE read-write transaction
   * over every store. Resolves, once the transaction has completed, to
   * `last` (the id to pass to `sim.confirmDurable`), or `undefined`. Rejects
   * with QuotaExceededError, ClosedError, InvalidInputError or StorageError;
   * then none of it was stored.
   */
  write(plan) {
    return new Promise((resolve, reject) => {
      let p;
      try {
        p = JSON.parse(plan);
      } catch (e) {
        throw invalid(`store.write takes the requests of takeDurableWrites or enablePersistence: ${e.message}`);
      }
      if (!p || !Array.isArray(p.ops)) throw invalid("store.write takes the requests of takeDurableWrites or enablePersistence: {last, ops}");
      const tx = this.transaction(STORES, "readwrite");
      tx.oncomplete = () => resolve(p.last === null ? undefined : p.last);
      tx.onabort = () => reject(tx.error ? classify("the write", tx.error) : storage("the write was aborted"));
      try {
        issue(tx, p.ops);
      } catch (e) {
        reject(e);
        try {
          tx.abort();
        } catch {
          // already finished: it failed on its own
        }
      }
    });
  }

  /**
   * Every record, read in one read-only transaction, for the wasm's
   * `assembleLoaded`: the JSON text
   * `{"meta": text (absent if none), "hard_state": [[key, value]…], "log": […], "calls": […]}`,
   * each store's records in key order, every value the stored text (`null`
   * for a value that is not text: the wasm reports it as damaged).
   */
  load() {
    return new Promise((resolve, reject) => {
      const tx = this.transaction(READ, "readonly");
      const store = (s) => tx.objectStore(s);
      let meta, reads;
      try {
        meta = store("sim").get("meta");
        reads = ["hard_state", "log", "calls"].map((s) => [s, store(s).getAllKeys(), store(s).getAll()]);
      } catch (e) {
        reject(classify("reading the saved cluster", e));
        return;
      }
      tx.onabort = () => reject(tx.error ? classify("reading the saved cluster", tx.error) : storage("reading the saved cluster was aborted"));
      tx.oncomplete = () => {
        const text = (v) => (typeof v === "string" ? v : null);
        const raw = {};
        if (meta.result !== undefined) raw.meta = text(meta.result);
        for (const [s, keys, values] of reads) {
          if (keys.result.length !== values.result.length) {
            reject(storage(`reading ${s}: keys and values differ in number`));
            return;
          }
          raw[s] = keys.result.map((k, i) => [k, text(values.result[i])]);
        }
        resolve(JSON.stringify(raw));
      };
    });
  }

  /** Whether the simulation record (`sim` "meta") is stored: a cluster was saved here and can be resumed. */
  hasMeta() {
    return new Promise((resolve, reject) => {
      const tx = this.transaction(["sim"], "readonly");
      let count;
      try {
        count = tx.objectStore("sim").count("meta");
      } catch (e) {
        reject(classify("reading sim", e));
        return;
      }
      tx.oncomplete = () => resolve(count.result > 0);
      tx.onabort = () => reject(tx.error ? classify("reading sim", tx.error) : storage("reading sim was aborted"));
    });
  }

  /** Close the connection now (later calls reject with ClosedError). */
  close() {
    this.closed = true;
    this.db.close();
  }
}

/** Make every request of `ops` in `tx`. A request that throws (an invalid key, a closed connection) stops here; the caller aborts. */
function issue(tx, ops) {
  const stores = new Map();
  const store = (name) => {
    let s = stores.get(name);
    if (s === undefined) {
      try {
        s = tx.objectStore(name);
      } catch (e) {
        throw classify(`opening store ${name}`, e);
      }
      stores.set(name, s);
    }
    return s;
  };
  for (const op of ops) {
    const [kind, name] = Array.isArray(op) ? op : [];
    if (kind === "clear") {
      const s = store(name);
      try {
        s.clear();
      } catch (e) {
        throw classify(`clearing ${name}`, e);
      }
    } else if (kind === "put") {
      const s = store(name);
      try {
        s.put(op[3], op[2]);
      } catch (e) {
        throw classify(`writing ${name} ${showKey(op[2])}`, e);
      }
    } else if (kind === "delete") {
      const s = store(name);
      try {
        s.delete(IDBKeyRange.bound(op[2], op[3]));
      } catch (e) {
        throw classify(`deleting ${name} ${showKey(op[2])}..${showKey(op[3])}`, e);
      }
    } else {
      throw invalid(`store.write: unknown request ${JSON.stringify(op)}`);
    }
  }
}
