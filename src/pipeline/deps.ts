import type { Logger } from 'pino';
import type { DecisionWakeups } from '../approvals/decision-wakeups.js';
import type { LiveCalls } from '../live/live-calls.js';
import type { AuditStream } from '../audit/types.js';
import type { ApprovalSignal } from '../approvals/approval-signal.js';
import type { GatewayConfig } from '../config/types.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import type { PolicyHolder } from '../policy/holder.js';
import type { SessionLifecycle } from '../sessions/lifecycle.js';
import type { TokenVerifier } from '../sessions/token-verify.js';
import type { Store } from '../store/types.js';
import type { ToolDispatchers } from '../upstream/dispatchers.js';
import type { Clock } from '../util/clock.js';

/** Everything the data plane needs, built once at start (DESIGN rule 3). */
export interface PipelineDeps {
  readonly config: GatewayConfig;
  readonly policy: PolicyHolder;
  readonly verifier: TokenVerifier;
  readonly lifecycle: SessionLifecycle;
  readonly store: Store;
  readonly clock: Clock;
  readonly audit: AuditStream;
  readonly metrics: GatewayMetrics;
  readonly dispatchers: ToolDispatchers;
  readonly logger: Logger;
  /** In-flight calls and open streams by session (SPEC §8): the in-flight cap and stream fencing. */
  readonly live: LiveCalls;
  /** Wakes a call held for approval when its approval is decided, on any replica (SPEC §9, §17). */
  readonly wakeups?: DecisionWakeups;
  /** Told when a call creates, consumes or expires an approval (the console's live inbox). */
  readonly approvalSignal?: ApprovalSignal;
  /** The console's public URL when the console is enabled, else null (approval_url in approval_required). */
  readonly consoleUrl?: () => string | null;
  /** This process (SPEC §17): recorded on every ledger entry it forwards. */
  readonly replicaId: string;
}
