// Schema steps 7–11 of the SQLite store: what several processes share — replicas, published signing keys,
// the webhook outbox, console sign-ins — and the epoch history the console's session page shows. Append
// new steps at the end (migrations.ts runs them in order).
import type { Migration } from './migration-steps-core.js';

export const SHARED_STATE_STEPS: readonly Migration[] = [
  {
    // SPEC §17: the processes sharing the store, and the replica that forwards each ledger entry, so that
    // recovery marks unknown only the in-flight entries of a replica that is gone. Entries written before
    // this step belong to no running replica ('').
    version: 7,
    sql: `
      CREATE TABLE replicas (
        replica_id   TEXT    PRIMARY KEY,
        started_at   INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL,
        stopped_at   INTEGER
      ) WITHOUT ROWID;
      ALTER TABLE ledger_entries ADD COLUMN replica_id TEXT NOT NULL DEFAULT '';
      CREATE INDEX ledger_in_flight_replica ON ledger_entries (replica_id) WHERE state = 'in_flight';
    `,
  },
  {
    // SPEC §17 "Signing keys": the public halves of every replica's signing keys, published at start and on
    // SIGHUP. Insert-if-absent per kid; retired_at is set once and never cleared.
    version: 8,
    sql: `
      CREATE TABLE signing_keys (
        kid          TEXT    PRIMARY KEY,
        jwk          TEXT    NOT NULL,
        published_at INTEGER NOT NULL,
        retired_at   INTEGER
      ) WITHOUT ROWID;
    `,
  },
  {
    // SPEC §18 "Notifications": the durable webhook outbox. Numbered 9: versions 7 and 8 belong to other
    // work (the runner applies whatever is above the file's version, in order, so a gap is harmless).
    // lease_until is 0 when no claim holds the row, so "due and unleased" is one range test.
    version: 9,
    sql: `
      CREATE TABLE notifications (
        delivery_id     TEXT    PRIMARY KEY,
        event           TEXT    NOT NULL,
        url             TEXT    NOT NULL,
        payload         TEXT    NOT NULL,
        state           TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        give_up_at      INTEGER NOT NULL,
        lease_owner     TEXT,
        lease_until     INTEGER NOT NULL DEFAULT 0,
        last_status     INTEGER,
        last_error      TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
      );
      -- The claim: pending rows by due time.
      CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
      CREATE INDEX notifications_state_created ON notifications (state, created_at);
      CREATE INDEX notifications_created ON notifications (created_at);
      -- The purge: settled rows by age.
      CREATE INDEX notifications_settled ON notifications (updated_at) WHERE state IN ('delivered', 'failed');
    `,
  },
  {
    // Console sign-in sessions, shared by every replica. Only the SHA-256 of the cookie value is kept.
    // And whether an MCP session's client declared URL-mode elicitation.
    // Versions 7–9 are reserved for concurrent work; the runner applies steps by number, gaps allowed.
    version: 10,
    sql: `
      CREATE TABLE console_sessions (
        id_hash      TEXT    PRIMARY KEY,
        person_id      TEXT    NOT NULL,
        credential_tag TEXT    NOT NULL,
        created_at   INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
      -- MCP clients that declared URL-mode elicitation get approval_required as that error (console link).
      ALTER TABLE mcp_sessions ADD COLUMN url_elicitation INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    // One row per epoch of a session (the console's session history). Written by triggers, so the row and
    // the create or the resume's compare-and-set are one statement: a winning resume always has its row,
    // a losing one (no row updated) writes none. Sessions that predate this step get a row for their
    // current epoch only; past epoch 1 it is marked before_history (when it began is not known).
    version: 11,
    sql: `
      CREATE TABLE session_epochs (
        session_id TEXT    NOT NULL REFERENCES sessions (session_id),
        epoch      INTEGER NOT NULL,
        started_at INTEGER,
        cause      TEXT    NOT NULL CHECK (cause IN ('create', 'resume', 'before_history')),
        scope      TEXT    NOT NULL,
        agent_id   TEXT    NOT NULL,
        PRIMARY KEY (session_id, epoch)
      ) WITHOUT ROWID;
      INSERT INTO session_epochs (session_id, epoch, started_at, cause, scope, agent_id)
        SELECT session_id, epoch, CASE WHEN epoch = 1 THEN created_at END,
               CASE WHEN epoch = 1 THEN 'create' ELSE 'before_history' END, scope, agent_id
        FROM sessions;
      CREATE TRIGGER session_epoch_created AFTER INSERT ON sessions BEGIN
        INSERT INTO session_epochs (session_id, epoch, started_at, cause, scope, agent_id)
          VALUES (NEW.session_id, NEW.epoch, NEW.created_at, 'create', NEW.scope, NEW.agent_id);
      END;
      CREATE TRIGGER session_epoch_resumed AFTER UPDATE OF epoch ON sessions WHEN NEW.epoch > OLD.epoch BEGIN
        INSERT INTO session_epochs (session_id, epoch, started_at, cause, scope, agent_id)
          VALUES (NEW.session_id, NEW.epoch, NEW.updated_at, 'resume', NEW.scope, NEW.agent_id);
      END;
    `,
  },
];
