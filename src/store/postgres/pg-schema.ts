// The PostgreSQL schema, as versioned steps (SPEC §17). Append new steps at the end; never edit a shipped
// step, since databases in the field have already run it. Times are bigint milliseconds, JSON is text
// (exact round trip, and a "\u0000" in caller metadata cannot make jsonb refuse a write), bodies bytea.
// Tables are created unqualified, i.e. in the connection's current schema (the first of its search_path).

export interface PgMigration {
  readonly version: number;
  readonly sql: string;
}

const SESSIONS = `
  CREATE TABLE sessions (
    session_id       text    PRIMARY KEY,
    task_id          text    NOT NULL,
    agent_id         text    NOT NULL,
    state            text    NOT NULL CHECK (state IN ('active', 'suspended', 'closed', 'revoked')),
    state_reason     text,
    epoch            bigint  NOT NULL CHECK (epoch >= 1),
    scope            text    NOT NULL,
    original_scope   text    NOT NULL,
    created_at       bigint  NOT NULL,
    updated_at       bigint  NOT NULL,
    lease_expires_at bigint  NOT NULL,
    resumes          bigint  NOT NULL DEFAULT 0,
    metadata         text,
    -- Seq of the latest checkpoint (0: none). Bumped by the checkpoint insert itself, under the row lock,
    -- so two checkpoints cannot take the same seq and the ledger reads its window from the locked row.
    checkpoint_seq   bigint  NOT NULL DEFAULT 0
  );
  -- One task run by one agent: the index itself refuses a second open session (no read-then-write).
  CREATE UNIQUE INDEX sessions_open_agent_task ON sessions (agent_id, task_id) WHERE state IN ('active', 'suspended');
  CREATE INDEX sessions_state_lease ON sessions (state, lease_expires_at);
  CREATE INDEX sessions_open_created ON sessions (created_at) WHERE state IN ('active', 'suspended');
  CREATE INDEX sessions_agent ON sessions (agent_id, created_at);
  CREATE INDEX sessions_created ON sessions (created_at, session_id);

  CREATE TABLE checkpoints (
    checkpoint_id text   PRIMARY KEY,
    session_id    text   NOT NULL REFERENCES sessions (session_id),
    seq           bigint NOT NULL,
    epoch         bigint NOT NULL,
    label         text,
    state         text,
    state_digest  text   NOT NULL,
    created_at    bigint NOT NULL,
    UNIQUE (session_id, seq)
  );

  CREATE TABLE used_assertions (
    key        text   PRIMARY KEY,
    expires_at bigint NOT NULL
  );
  CREATE INDEX used_assertions_expiry ON used_assertions (expires_at);

  CREATE TABLE replicas (
    replica_id   text   PRIMARY KEY,
    started_at   bigint NOT NULL,
    heartbeat_at bigint NOT NULL,
    stopped_at   bigint
  );
  CREATE INDEX replicas_running ON replicas (heartbeat_at) WHERE stopped_at IS NULL;
`;

const APPROVALS = `
  CREATE TABLE approvals (
    approval_id         text    PRIMARY KEY,
    session_id          text    NOT NULL REFERENCES sessions (session_id),
    agent_id            text    NOT NULL,
    digest              text    NOT NULL,
    rule_id             text    NOT NULL,
    approver_roles      text    NOT NULL,
    state               text    NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'consumed', 'expired')),
    expire_reason       text,
    tool                text    NOT NULL,
    method              text    NOT NULL,
    path                text    NOT NULL,
    query               text    NOT NULL,
    mcp_tool            text,
    body_preview        bytea,
    body_size           bigint  NOT NULL,
    body_sha256         text,
    ttl_ms              bigint  NOT NULL,
    requested_epoch     bigint  NOT NULL,
    request_id          text    NOT NULL,
    created_at          bigint  NOT NULL,
    expires_at          bigint  NOT NULL,
    updated_at          bigint  NOT NULL,
    decided_by          text,
    decided_at          bigint,
    comment             text,
    consumed_at         bigint,
    consumed_epoch      bigint,
    consumed_request_id text
  );
  -- At most one pending approval per (session, digest): two concurrent calls cannot both insert one.
  CREATE UNIQUE INDEX approvals_one_pending ON approvals (session_id, digest) WHERE state = 'pending';
  CREATE INDEX approvals_session_digest ON approvals (session_id, digest, state);
  CREATE INDEX approvals_open_expiry ON approvals (expires_at) WHERE state IN ('pending', 'approved');
  CREATE INDEX approvals_created ON approvals (created_at, approval_id);
`;

const LEDGER = `
  CREATE TABLE ledger_entries (
    ord            bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id       text    NOT NULL UNIQUE,
    session_id     text    NOT NULL REFERENCES sessions (session_id),
    kind           text    NOT NULL CHECK (kind IN ('replay', 'key')),
    checkpoint_seq bigint  NOT NULL,
    tool           text    NOT NULL,
    idem_key       text,
    fingerprint    text    NOT NULL,
    occurrence     bigint  NOT NULL,
    epoch          bigint  NOT NULL,
    attempt_epoch  bigint  NOT NULL,
    attempts       bigint  NOT NULL DEFAULT 1,
    state          text    NOT NULL CHECK (state IN ('in_flight', 'completed', 'unknown', 'retry', 'done')),
    unknown_reason text,
    attempt        text    NOT NULL,
    replica_id     text    NOT NULL,
    method         text    NOT NULL,
    path           text    NOT NULL,
    mcp_tool       text,
    status         integer,
    headers        text,
    body           bytea,
    body_sha256    text,
    body_bytes     bigint,
    created_at     bigint  NOT NULL,
    updated_at     bigint  NOT NULL,
    expires_at     bigint,
    resolved_by    text,
    closed_at      bigint
  );
  -- The occurrence rule finds the k-th entry of a fingerprint by index, never by counting.
  CREATE INDEX ledger_occurrence ON ledger_entries (session_id, checkpoint_seq, fingerprint, occurrence) WHERE kind = 'replay';
  CREATE INDEX ledger_window ON ledger_entries (session_id, checkpoint_seq, ord) WHERE kind = 'replay';
  -- One record per (session, tool, key).
  CREATE UNIQUE INDEX ledger_keys ON ledger_entries (session_id, tool, idem_key) WHERE kind = 'key';
  CREATE INDEX ledger_key_expiry ON ledger_entries (expires_at) WHERE kind = 'key';
  CREATE INDEX ledger_in_flight ON ledger_entries (replica_id) WHERE state = 'in_flight';
  CREATE INDEX ledger_closed ON ledger_entries (closed_at) WHERE closed_at IS NOT NULL;

  -- Calls per (window, epoch, fingerprint) that took an occurrence slot: the k of the occurrence rule.
  CREATE TABLE ledger_counters (
    session_id     text   NOT NULL,
    checkpoint_seq bigint NOT NULL,
    epoch          bigint NOT NULL,
    fingerprint    text   NOT NULL,
    calls          bigint NOT NULL,
    PRIMARY KEY (session_id, checkpoint_seq, epoch, fingerprint)
  );

  -- Retention: bodies of a closed window go in the same transaction as the checkpoint that closes it, and
  -- counters of earlier windows can never be read again.
  CREATE FUNCTION epochgate_ledger_close_window() RETURNS trigger LANGUAGE plpgsql AS $fn$
  BEGIN
    UPDATE ledger_entries SET body = NULL, closed_at = NEW.created_at
      WHERE kind = 'replay' AND session_id = NEW.session_id AND checkpoint_seq = NEW.seq - 1 AND closed_at IS NULL;
    DELETE FROM ledger_counters WHERE session_id = NEW.session_id AND checkpoint_seq < NEW.seq;
    RETURN NULL;
  END $fn$;
  CREATE TRIGGER ledger_close_window AFTER INSERT ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION epochgate_ledger_close_window();

  -- A session that becomes final closes its open window.
  CREATE FUNCTION epochgate_ledger_close_session() RETURNS trigger LANGUAGE plpgsql AS $fn$
  BEGIN
    UPDATE ledger_entries SET body = NULL, closed_at = NEW.updated_at
      WHERE kind = 'replay' AND session_id = NEW.session_id AND closed_at IS NULL;
    DELETE FROM ledger_counters WHERE session_id = NEW.session_id;
    RETURN NULL;
  END $fn$;
  CREATE TRIGGER ledger_close_session AFTER UPDATE OF state ON sessions
    FOR EACH ROW WHEN (NEW.state IN ('closed', 'revoked') AND OLD.state NOT IN ('closed', 'revoked'))
    EXECUTE FUNCTION epochgate_ledger_close_session();

  -- Counters of earlier epochs can never be read again.
  CREATE FUNCTION epochgate_ledger_new_epoch() RETURNS trigger LANGUAGE plpgsql AS $fn$
  BEGIN
    DELETE FROM ledger_counters WHERE session_id = NEW.session_id AND epoch < NEW.epoch;
    RETURN NULL;
  END $fn$;
  CREATE TRIGGER ledger_new_epoch AFTER UPDATE OF epoch ON sessions
    FOR EACH ROW WHEN (NEW.epoch > OLD.epoch) EXECUTE FUNCTION epochgate_ledger_new_epoch();
`;

const BINDINGS_AND_ANCHORS = `
  -- The primary key makes the first binding of an upstream's Mcp-Session-Id win.
  CREATE TABLE mcp_sessions (
    tool           text   NOT NULL,
    mcp_session_id text   NOT NULL,
    session_id     text   NOT NULL REFERENCES sessions (session_id),
    created_at     bigint NOT NULL,
    PRIMARY KEY (tool, mcp_session_id)
  );

  CREATE TABLE anchors (
    chain_uid  text   NOT NULL,
    sequence   bigint NOT NULL CHECK (sequence >= 1),
    hash       text   NOT NULL,
    jws        text   NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (chain_uid, sequence)
  );
  CREATE INDEX anchors_created ON anchors (created_at);
`;

// Published signing keys, the webhook outbox, console sign-in sessions, and whether an MCP client declared
// URL-mode elicitation. A step of its own so the tables of version 1 stay as they were written.
const KEYS_OUTBOX_CONSOLE = `
  -- Insert-if-absent per kid; retired_at is set once and never cleared.
  CREATE TABLE signing_keys (
    kid          text   PRIMARY KEY,
    jwk          text   NOT NULL,
    published_at bigint NOT NULL,
    retired_at   bigint
  );

  -- lease_until is 0 when no claim holds the row, so "due and unleased" is one range test.
  CREATE TABLE notifications (
    delivery_id     text    PRIMARY KEY,
    event           text    NOT NULL,
    url             text    NOT NULL,
    payload         text    NOT NULL,
    state           text    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        bigint  NOT NULL DEFAULT 0,
    next_attempt_at bigint  NOT NULL,
    give_up_at      bigint  NOT NULL,
    lease_owner     text,
    lease_until     bigint  NOT NULL DEFAULT 0,
    last_status     integer,
    last_error      text,
    created_at      bigint  NOT NULL,
    updated_at      bigint  NOT NULL
  );
  -- The claim: pending rows by due time.
  CREATE INDEX notifications_due ON notifications (next_attempt_at, delivery_id) WHERE state = 'pending';
  CREATE INDEX notifications_state_created ON notifications (state, created_at, delivery_id);
  CREATE INDEX notifications_created ON notifications (created_at, delivery_id);
  -- The purge: settled rows by age.
  CREATE INDEX notifications_settled ON notifications (updated_at) WHERE state IN ('delivered', 'failed');

  -- Only the SHA-256 of the cookie value is kept.
  CREATE TABLE console_sessions (
    id_hash        text   PRIMARY KEY,
    person_id      text   NOT NULL,
    credential_tag text   NOT NULL,
    created_at     bigint NOT NULL,
    last_seen_at   bigint NOT NULL,
    expires_at     bigint NOT NULL
  );
  CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

  ALTER TABLE mcp_sessions ADD COLUMN url_elicitation boolean NOT NULL DEFAULT false;
`;

// One row per epoch of a session (the console's session history), written by triggers so the row and the
// create or the resume's compare-and-set are one statement: a winning resume always has its row, a losing
// one (no row updated) writes none. Sessions that predate this step get a row for their current epoch
// only; past epoch 1 it is marked before_history (when it began is not known).
const SESSION_EPOCHS = `
  CREATE TABLE session_epochs (
    session_id text   NOT NULL REFERENCES sessions (session_id),
    epoch      bigint NOT NULL,
    started_at bigint,
    cause      text   NOT NULL CHECK (cause IN ('create', 'resume', 'before_history')),
    scope      text   NOT NULL,
    agent_id   text   NOT NULL,
    PRIMARY KEY (session_id, epoch)
  );
  INSERT INTO session_epochs (session_id, epoch, started_at, cause, scope, agent_id)
    SELECT session_id, epoch, CASE WHEN epoch = 1 THEN created_at END,
           CASE WHEN epoch = 1 THEN 'create' ELSE 'before_history' END, scope, agent_id
    FROM sessions;
  CREATE FUNCTION epochgate_session_epoch() RETURNS trigger LANGUAGE plpgsql AS $fn$
  BEGIN
    INSERT INTO session_epochs (session_id, epoch, started_at, cause, scope, agent_id)
      VALUES (NEW.session_id, NEW.epoch, CASE WHEN TG_OP = 'INSERT' THEN NEW.created_at ELSE NEW.updated_at END,
              CASE WHEN TG_OP = 'INSERT' THEN 'create' ELSE 'resume' END, NEW.scope, NEW.agent_id);
    RETURN NULL;
  END $fn$;
  CREATE TRIGGER session_epoch_created AFTER INSERT ON sessions
    FOR EACH ROW EXECUTE FUNCTION epochgate_session_epoch();
  CREATE TRIGGER session_epoch_resumed AFTER UPDATE OF epoch ON sessions
    FOR EACH ROW WHEN (NEW.epoch > OLD.epoch) EXECUTE FUNCTION epochgate_session_epoch();
`;

/** Exported for the migration tests. */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  { version: 1, sql: SESSIONS + APPROVALS + LEDGER + BINDINGS_AND_ANCHORS },
  { version: 2, sql: KEYS_OUTBOX_CONSOLE },
  { version: 3, sql: SESSION_EPOCHS },
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
