// Schema steps 1–6 of the SQLite store: sessions, checkpoints, assertion ids, approvals, the ledger, MCP
// bindings and anchors. Shipped: never edit a step, databases in the field have run it (migrations.ts).

export interface Migration {
  readonly version: number;
  readonly sql: string;
}

export const CORE_STEPS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE sessions (
        session_id       TEXT    PRIMARY KEY,
        task_id          TEXT    NOT NULL,
        agent_id         TEXT    NOT NULL,
        state            TEXT    NOT NULL CHECK (state IN ('active', 'suspended', 'closed', 'revoked')),
        state_reason     TEXT,
        epoch            INTEGER NOT NULL CHECK (epoch >= 1),
        scope            TEXT    NOT NULL,
        original_scope   TEXT    NOT NULL,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL,
        lease_expires_at INTEGER NOT NULL,
        resumes          INTEGER NOT NULL DEFAULT 0,
        metadata         TEXT
      );
      -- SPEC §5 "one task run by one agent": enforced by the index itself, so two concurrent creates
      -- cannot both insert (createSession relies on it instead of a read-then-write).
      CREATE UNIQUE INDEX sessions_open_agent_task ON sessions (agent_id, task_id)
        WHERE state IN ('active', 'suspended');
      -- The lease sweep: active sessions ordered by lease end.
      CREATE INDEX sessions_state_lease ON sessions (state, lease_expires_at);
      -- The max_age sweep only ever looks at non-final sessions.
      CREATE INDEX sessions_open_created ON sessions (created_at)
        WHERE state IN ('active', 'suspended');
      CREATE INDEX sessions_agent ON sessions (agent_id, created_at);

      CREATE TABLE checkpoints (
        checkpoint_id TEXT    PRIMARY KEY,
        session_id    TEXT    NOT NULL REFERENCES sessions (session_id),
        seq           INTEGER NOT NULL,
        epoch         INTEGER NOT NULL,
        label         TEXT,
        state         TEXT,
        state_digest  TEXT    NOT NULL,
        created_at    INTEGER NOT NULL,
        UNIQUE (session_id, seq)
      );

      CREATE TABLE used_assertions (
        key        TEXT    PRIMARY KEY,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX used_assertions_expiry ON used_assertions (expires_at);
    `,
  },
  {
    // Approvals (SPEC §9). Keyed by session, never by epoch: they survive resume and restart.
    version: 2,
    sql: `
      CREATE TABLE approvals (
        approval_id         TEXT    PRIMARY KEY,
        session_id          TEXT    NOT NULL REFERENCES sessions (session_id),
        agent_id            TEXT    NOT NULL,
        digest              TEXT    NOT NULL,
        rule_id             TEXT    NOT NULL,
        approver_roles      TEXT    NOT NULL,
        state               TEXT    NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'consumed', 'expired')),
        expire_reason       TEXT,
        tool                TEXT    NOT NULL,
        method              TEXT    NOT NULL,
        path                TEXT    NOT NULL,
        query               TEXT    NOT NULL,
        mcp_tool            TEXT,
        body_preview        BLOB,
        body_size           INTEGER NOT NULL,
        body_sha256         TEXT,
        ttl_ms              INTEGER NOT NULL,
        requested_epoch     INTEGER NOT NULL,
        request_id          TEXT    NOT NULL,
        created_at          INTEGER NOT NULL,
        expires_at          INTEGER NOT NULL,
        updated_at          INTEGER NOT NULL,
        decided_by          TEXT,
        decided_at          INTEGER,
        comment             TEXT,
        consumed_at         INTEGER,
        consumed_epoch      INTEGER,
        consumed_request_id TEXT
      );
      -- SPEC §9.3 "the existing pending one for that digest is reused": at most one pending approval per
      -- (session, digest), enforced by the index so two concurrent calls cannot both insert one.
      CREATE UNIQUE INDEX approvals_one_pending ON approvals (session_id, digest) WHERE state = 'pending';
      CREATE INDEX approvals_session_digest ON approvals (session_id, digest, state);
      -- The expiry sweep only looks at approvals that can still change.
      CREATE INDEX approvals_open_expiry ON approvals (expires_at) WHERE state IN ('pending', 'approved');
      CREATE INDEX approvals_created ON approvals (created_at);
    `,
  },
  {
    // The idempotency ledger (SPEC §10): occurrence entries (kind 'replay') per checkpoint window, and
    // Idempotency-Key records (kind 'key', 24 h). `ord` is the ledger order the occurrence rule counts in.
    version: 3,
    sql: `
      CREATE TABLE ledger_entries (
        ord            INTEGER PRIMARY KEY,
        entry_id       TEXT    NOT NULL UNIQUE,
        session_id     TEXT    NOT NULL REFERENCES sessions (session_id),
        kind           TEXT    NOT NULL CHECK (kind IN ('replay', 'key')),
        checkpoint_seq INTEGER NOT NULL,
        tool           TEXT    NOT NULL,
        idem_key       TEXT,
        fingerprint    TEXT    NOT NULL,
        occurrence     INTEGER NOT NULL,
        epoch          INTEGER NOT NULL,
        attempt_epoch  INTEGER NOT NULL,
        attempts       INTEGER NOT NULL DEFAULT 1,
        state          TEXT    NOT NULL CHECK (state IN ('in_flight', 'completed', 'unknown', 'retry', 'done')),
        unknown_reason TEXT,
        attempt        TEXT    NOT NULL,
        method         TEXT    NOT NULL,
        path           TEXT    NOT NULL,
        mcp_tool       TEXT,
        status         INTEGER,
        headers        TEXT,
        body           BLOB,
        body_sha256    TEXT,
        body_bytes     INTEGER,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL,
        expires_at     INTEGER,
        resolved_by    TEXT
      );
      -- The occurrence lookup: the window's entries with one fingerprint, in ledger order.
      CREATE INDEX ledger_window ON ledger_entries (session_id, checkpoint_seq, fingerprint, ord) WHERE kind = 'replay';
      -- SPEC §10: one record per (session, tool, key); the index makes two concurrent first uses impossible.
      CREATE UNIQUE INDEX ledger_keys ON ledger_entries (session_id, tool, idem_key) WHERE kind = 'key';
      CREATE INDEX ledger_key_expiry ON ledger_entries (expires_at) WHERE kind = 'key';
      CREATE INDEX ledger_in_flight ON ledger_entries (state) WHERE state = 'in_flight';

      -- Calls per (window, epoch, fingerprint) that took an occurrence slot: the k of the occurrence rule.
      CREATE TABLE ledger_counters (
        session_id     TEXT    NOT NULL,
        checkpoint_seq INTEGER NOT NULL,
        epoch          INTEGER NOT NULL,
        fingerprint    TEXT    NOT NULL,
        calls          INTEGER NOT NULL,
        PRIMARY KEY (session_id, checkpoint_seq, epoch, fingerprint)
      ) WITHOUT ROWID;
    `,
  },
  {
    // SPEC §11: an upstream's Mcp-Session-Id is bound to the gateway session that first received it.
    // The primary key is what makes the first binding win (insert-if-absent, DESIGN rule 10).
    version: 4,
    sql: `
      CREATE TABLE mcp_sessions (
        tool           TEXT    NOT NULL,
        mcp_session_id TEXT    NOT NULL,
        session_id     TEXT    NOT NULL REFERENCES sessions (session_id),
        created_at     INTEGER NOT NULL,
        PRIMARY KEY (tool, mcp_session_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    // SPEC §10 "Cost does not grow with the ledger": the occurrence rule finds the k-th entry by index
    // (session, window, fingerprint, occurrence) instead of counting and OFFSET-scanning (ledger-occurrence.ts).
    // Occurrences are renumbered dense in ledger order first (releases used to leave gaps).
    // Retention: bodies of closed windows and final sessions are dropped by triggers in the same transaction
    // as the checkpoint or state change; closed_at starts the ledger_retention clock for the metadata.
    // Counters of earlier windows and epochs can never be read again: triggers delete them, so a
    // reservation never has to.
    version: 5,
    sql: `
      DROP INDEX ledger_window;
      UPDATE ledger_entries SET occurrence = numbered.n
        FROM (SELECT ord AS o, row_number() OVER (PARTITION BY session_id, checkpoint_seq, fingerprint ORDER BY ord) AS n
              FROM ledger_entries WHERE kind = 'replay') AS numbered
        WHERE ledger_entries.ord = numbered.o;
      CREATE INDEX ledger_occurrence ON ledger_entries (session_id, checkpoint_seq, fingerprint, occurrence) WHERE kind = 'replay';
      CREATE INDEX ledger_window ON ledger_entries (session_id, checkpoint_seq, ord) WHERE kind = 'replay';

      ALTER TABLE ledger_entries ADD COLUMN closed_at INTEGER;
      UPDATE ledger_entries SET body = NULL, closed_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000
        WHERE kind = 'replay' AND (
          checkpoint_seq < (SELECT coalesce(max(seq), 0) FROM checkpoints c WHERE c.session_id = ledger_entries.session_id)
          OR session_id IN (SELECT session_id FROM sessions WHERE state IN ('closed', 'revoked')));
      CREATE INDEX ledger_closed ON ledger_entries (closed_at) WHERE closed_at IS NOT NULL;
      DELETE FROM ledger_counters WHERE NOT EXISTS (
        SELECT 1 FROM sessions s WHERE s.session_id = ledger_counters.session_id AND s.state IN ('active', 'suspended')
          AND s.epoch = ledger_counters.epoch
          AND ledger_counters.checkpoint_seq = (SELECT coalesce(max(seq), 0) FROM checkpoints c WHERE c.session_id = s.session_id));

      CREATE TRIGGER ledger_close_window AFTER INSERT ON checkpoints BEGIN
        UPDATE ledger_entries SET body = NULL, closed_at = NEW.created_at
          WHERE kind = 'replay' AND session_id = NEW.session_id AND checkpoint_seq = NEW.seq - 1 AND closed_at IS NULL;
        DELETE FROM ledger_counters WHERE session_id = NEW.session_id AND checkpoint_seq < NEW.seq;
      END;
      CREATE TRIGGER ledger_close_session AFTER UPDATE OF state ON sessions
        WHEN NEW.state IN ('closed', 'revoked') AND OLD.state NOT IN ('closed', 'revoked') BEGIN
        UPDATE ledger_entries SET body = NULL, closed_at = NEW.updated_at
          WHERE kind = 'replay' AND session_id = NEW.session_id AND closed_at IS NULL;
        DELETE FROM ledger_counters WHERE session_id = NEW.session_id;
      END;
      CREATE TRIGGER ledger_new_epoch AFTER UPDATE OF epoch ON sessions WHEN NEW.epoch > OLD.epoch BEGIN
        DELETE FROM ledger_counters WHERE session_id = NEW.session_id AND epoch < NEW.epoch;
      END;
    `,
  },
  {
    // SPEC §13 "Anchors": signed statements of how far each audit chain had reached, so a cut tail or a
    // removed audit file is detectable. Keyed by (chain, sequence): the newest per chain is one index seek.
    version: 6,
    sql: `
      CREATE TABLE anchors (
        chain_uid  TEXT    NOT NULL,
        sequence   INTEGER NOT NULL CHECK (sequence >= 1),
        hash       TEXT    NOT NULL,
        jws        TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (chain_uid, sequence)
      ) WITHOUT ROWID;
      CREATE INDEX anchors_created ON anchors (created_at);
    `,
  },
];
