// StoreSignals across replicas on PostgreSQL: LISTEN/NOTIFY on one channel. One dedicated client listens
// (a LISTEN needs a session of its own, never a pooled connection); publishing is one pg_notify on any
// connection. The listener reconnects with backoff after any failure and never stops the process (DESIGN
// rule 15); meanwhile nothing is lost that matters, because every waiter also polls the store.
//
// A change is delivered to this process's listeners at once (no round trip), and its own echo from the
// database is dropped by its `origin` (this replica's id); what arrives from others is parsed strictly.
import pg from 'pg';
import { LocalSignals } from '../local-signals.js';
import { parseStoreChange, type ChangeNotice, type StoreChangeListener, type StoreSignals } from '../signal-types.js';

export const SIGNAL_CHANNEL = 'epochgate_changes';
const INITIAL_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;
/** A silently dead connection (network cut, no RST) is noticed by this probe, not by the OS hours later. */
const PROBE_MS = 10_000;
/** application_name of the listening connection, so an operator can find it in pg_stat_activity. */
export const LISTENER_NAME = 'epochgate-signals';
/** application_name of the one pooled connection that sends notifications (when none is injected). */
export const NOTIFIER_NAME = 'epochgate-notify';

export interface PgSignalsOptions {
  readonly connectionString: string;
  /** This replica's id: its own notifications come back from the database and are dropped. */
  readonly origin: string;
  /** Sends one notification; by default a small pool of this module's own. */
  readonly notify?: (channel: string, payload: string) => Promise<void>;
  readonly onError?: (err: unknown) => void;
  readonly channel?: string;
  readonly maxBackoffMs?: number;
  readonly probeMs?: number;
}

export class PgSignals implements StoreSignals {
  private readonly local: LocalSignals;
  private readonly onError: (err: unknown) => void;
  private readonly channel: string;
  private readonly notify: (channel: string, payload: string) => Promise<void>;
  private readonly pool: pg.Pool | undefined;
  private client: pg.Client | undefined;
  private backoffMs = INITIAL_BACKOFF_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private listeningNow = false;
  private readonly listeningWaiters: (() => void)[] = [];

  constructor(private readonly options: PgSignalsOptions) {
    this.onError = options.onError ?? (() => {});
    this.local = new LocalSignals(options.origin, this.onError);
    this.channel = options.channel ?? SIGNAL_CHANNEL;
    if (options.notify) {
      this.notify = options.notify;
    } else {
      const pool = new pg.Pool({ connectionString: options.connectionString, max: 1, keepAlive: true, application_name: NOTIFIER_NAME });
      // An idle pooled client that loses its server emits here; unhandled, it would stop the process.
      pool.on('error', (err) => this.onError(err));
      this.pool = pool;
      this.notify = async (channel, payload) => {
        await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
      };
    }
  }

  /** Starts listening in the background (reconnecting until close()); returns at once. */
  start(): this {
    this.connect();
    const probe = setInterval(() => this.probe(), this.options.probeMs ?? PROBE_MS);
    probe.unref();
    this.probeTimer = probe;
    return this;
  }

  /** True while the LISTEN is established (for readiness of tests and for monitoring). */
  get listening(): boolean {
    return this.listeningNow;
  }

  /** Resolves once the LISTEN is established (at once if it is). */
  whenListening(): Promise<void> {
    if (this.listeningNow) return Promise.resolve();
    return new Promise((resolve) => this.listeningWaiters.push(resolve));
  }

  get origin(): string {
    return this.options.origin;
  }

  async publish(notice: ChangeNotice): Promise<void> {
    const change = { ...notice, origin: this.options.origin };
    this.local.deliver(change);
    try {
      await this.notify(this.channel, JSON.stringify(change));
    } catch (err) {
      this.onError(err);
    }
  }

  subscribe(listener: StoreChangeListener): () => void {
    return this.local.subscribe(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    const client = this.client;
    this.client = undefined;
    this.listeningNow = false;
    await Promise.all([client?.end().catch(() => {}), this.pool?.end().catch(() => {})]);
    await this.local.close();
  }

  private connect(): void {
    if (this.closed) return;
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      keepAlive: true,
      application_name: LISTENER_NAME,
      // A connect or probe that hangs (a cut network drops packets silently) counts as a failure.
      connectionTimeoutMillis: PROBE_MS / 2,
      query_timeout: PROBE_MS / 2,
    });
    this.client = client;
    client.on('notification', (message) => this.received(message));
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('the LISTEN connection ended')));
    client
      .connect()
      .then(() => client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`))
      .then(() => this.established(client))
      .catch((err: unknown) => this.lost(client, err));
  }

  private established(client: pg.Client): void {
    if (client !== this.client) return;
    this.listeningNow = true;
    this.backoffMs = INITIAL_BACKOFF_MS;
    for (const wake of this.listeningWaiters.splice(0)) wake();
  }

  /** Any failure of the current client: drop it and try again later (once per client). */
  private lost(client: pg.Client, err: unknown): void {
    if (client !== this.client) return;
    this.client = undefined;
    this.listeningNow = false;
    client.removeAllListeners('notification');
    // A client that failed may emit more errors while it ends: keep an owner for them.
    client.removeAllListeners('error');
    client.on('error', () => {});
    client.end().catch(() => {});
    if (this.closed) return;
    this.onError(err);
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? MAX_BACKOFF_MS);
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.retryTimer.unref();
  }

  private probe(): void {
    const client = this.client;
    if (client === undefined || !this.listeningNow) return;
    client.query('SELECT 1').catch((err: unknown) => this.lost(client, err));
  }

  private received(message: pg.Notification): void {
    if (message.channel !== this.channel || message.payload === undefined) return;
    const change = parseStoreChange(message.payload);
    if (change === null) {
      this.onError(new Error(`ignored a malformed signal on ${this.channel}`));
      return;
    }
    if (change.origin === this.options.origin) return; // delivered locally when published
    this.local.deliver(change);
  }
}
