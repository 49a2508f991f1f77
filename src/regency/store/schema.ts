import type { Generated } from 'kysely';

/**
 * The regency store's tables, as Kysely sees them. Both dialects hold the same columns:
 * booleans are 0/1 integers, JSON is text, wall times are epoch milliseconds (bigint), so one
 * query reads the same on SQLite and PostgreSQL.
 */
export interface RegencyTables {
  /**
   * Every envelope once, keyed on its `id`: a redelivery is a no-op. On PostgreSQL partitioned
   * by kind and month (migration-012.ts), keyed on (id, kind, day), the id looked up first.
   */
  messages: {
    id: string;
    gw: string;
    kind: string;
    boot: string;
    seq: number;
    ts: string;
    clock_synced: number;
    historical: number;
    /** WIB day the message belongs to: of `ts` when the gateway clock was synced, else of receipt. */
    day: string;
    received_ms: number;
    data: string;
  };
  /** What failed validation, kept (payload capped) and counted, never dropped silently. */
  quarantine: {
    id: Generated<number>;
    at_ms: number;
    topic: string;
    reason: string;
    detail: string;
    size: number;
    payload: string;
  };
  /** Latest known state per village (retained topics, health), and its seq bounds. */
  villages: {
    gw: string;
    online: number | null;
    status: string | null;
    verdict: string | null;
    fault_layer: string | null;
    since: string | null;
    link: string | null;
    health: string | null;
    version: string | null;
    boot: string | null;
    clock_synced: number | null;
    outbox_depth: number | null;
    last_seen_ms: number | null;
    state_ms: number | null;
    min_seq: number | null;
    max_seq: number | null;
    /** The gateway's health interval as it published it (birth or health); null: not said. */
    health_interval_s: number | null;
    /** Position (boot rank, seq) of the health the row shows (migration 007). */
    health_rank: number | null;
    health_seq: number | null;
    /** The newest live position heard from the village. */
    top_rank: number | null;
    top_seq: number | null;
    /** The newest live position heard when the retained link the row shows arrived. */
    link_rank: number | null;
    link_seq: number | null;
    /** Rank of `boot` (the retained status's boot). */
    boot_rank: number | null;
  };
  /** Each boot of a village, ranked in the order the regency first heard of it. */
  village_boots: {
    gw: string;
    boot: string;
    rank: number;
    first_ms: number;
  };
  village_devices: {
    gw: string;
    device_id: string;
    state: string;
    data: string;
    at_ms: number;
  };
  /** A village's open alert episode (down, silent or offline; recovering while good_since_ms is set). */
  alert_episodes: {
    gw: string;
    started_ms: number;
    state: string;
    fault_layer: string | null;
    good_since_ms: number | null;
  };
  /** Webhook alerts: pending until a 2xx, then sent; failed after alerts.retry.give_up_h. */
  alert_queue: {
    id: string;
    hook: string;
    gw: string;
    kind: string;
    episode_ms: number;
    body: string;
    created_ms: number;
    state: string;
    attempts: Generated<number>;
    next_ms: number;
    last_error: string | null;
    sent_ms: number | null;
  };
  /** Per village and boot, the seqs received, as merged ranges lo..hi. */
  seq_ranges: {
    gw: string;
    boot: string;
    lo: number;
    hi: number;
  };
  /** Holes between the lowest and highest seq received from a village. */
  seq_gaps: {
    id: Generated<number>;
    gw: string;
    lo: number;
    hi: number;
    /** open | repaired (filled after repair_after_s) | unrepairable (the gateway no longer has it). */
    state: string;
    opened_ms: number;
    opened_day: string;
    closed_ms: number | null;
    /** `resend` requests sent for this gap (migration 005). */
    asks: Generated<number>;
    /** Not asked for again before this wall time (ms); null: never asked. */
    next_ask_ms: number | null;
  };
  /** A seq already received, again with a new id: the gateway lost its counter in a power cut. */
  seq_reuse: {
    id: Generated<number>;
    gw: string;
    seq: number;
    boot: string;
    msg_id: string;
    day: string;
    at_ms: number;
  };
  /** The completeness ledger: per village per day. */
  ledger_days: {
    gw: string;
    day: string;
    messages: number;
    duplicates: number;
    reused: number;
    folded: number;
    min_seq: number | null;
    max_seq: number | null;
  };
  /** Running totals (messages, duplicates, quarantined, ...) and last measurements (lag). */
  counters: {
    name: string;
    value: number;
  };
  /** Every command sent to a village: who, when, what (args redacted), and its answer. */
  command_audit: {
    id: Generated<number>;
    request_id: string;
    at_ms: number;
    actor: string;
    gw: string;
    name: string;
    /** JSON, secrets redacted. */
    args: string;
    /** pending | ok | error | timeout | unsent */
    outcome: string;
    /** The reply as JSON (`{ ok, result | error }`), null until answered. */
    reply: string | null;
    answered_ms: number | null;
  };
  /** Per-village broker identities (and the collector's): PBKDF2-SHA512 hashes, never secrets. */
  broker_credentials: {
    username: string;
    /** village | collector */
    role: string;
    /** The village code; null for the collector. */
    code: string | null;
    /** 12 ASCII characters, used as bytes: Mosquitto and EMQX read the same salt. */
    salt: string;
    iterations: number;
    /** base64 of the 64-byte derived key. */
    hash: string;
    created_ms: number;
    rotated_ms: number;
    revoked_ms: number | null;
    /** The client certificate's serial (hex) and end of validity, when one was issued. */
    cert_serial: string | null;
    cert_not_after_ms: number | null;
    /** Set while this identity is a rotation's new one, not yet confirmed: the end of the grace. */
    grace_until_ms: number | null;
    /** When a later identity of the same village replaced this one (confirmed or grace ended). */
    retired_ms: number | null;
  };
  accounts: {
    id: Generated<number>;
    name: string;
    password_hash: string;
    created_ms: number;
    updated_ms: number;
    /** viewer | operator | admin (migration 008); the first account (setup) is admin. */
    role: Generated<string>;
  };
  /**
   * Fleet-page sessions; the cookie's token only as its SHA-256. Wall times, not monotonic
   * ones: several collectors on one PostgreSQL share sessions and have no common monotonic clock.
   */
  sessions: {
    token_hash: string;
    account_id: number;
    created_ms: number;
    last_ms: number;
  };
  /** Failed logins and setup attempts, per key (`user:NAME`, `addr:IP`), for the throttle. */
  /** Client certificates a rotation replaced: listed in the CRL until they expire. */
  superseded_certs: {
    serial: string;
    username: string;
    not_after_ms: number;
    superseded_ms: number;
  };
  /** One-time codes for fetching a village's bundle: SHA-256 only, single use, short-lived. */
  bundle_codes: {
    hash: string;
    /** The village code. */
    code: string;
    bundle_dir: string;
    created_ms: number;
    expires_ms: number;
    used_ms: number | null;
  };
  /** issued | fetched | refused (wrong, used, expired, throttled) | superseded, per village. */
  provision_audit: {
    id: Generated<number>;
    at_ms: number;
    code: string;
    event: string;
    /** Who: `cli` or the fetching address. */
    source: string;
    detail: string;
  };
  login_failures: {
    id: Generated<number>;
    key: string;
    at_ms: number;
  };
  /** Small named values (the setup code's SHA-256). */
  settings: {
    name: string;
    value: string;
  };
}

export type Dialect = 'sqlite' | 'postgres';
