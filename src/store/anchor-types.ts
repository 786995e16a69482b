// Audit anchors (SPEC §13 "Anchors") as every Store backend keeps them: a signed statement that chain
// `chainUid` had reached `sequence` with record hash `hash`. Kept outside the audit files so that cutting
// the tail of a file (or removing a file) can be told from a chain that simply ended there.

export interface StoredAnchor {
  readonly chainUid: string;
  /** metadata.sequence of the record the anchor covers (the record before the audit.anchor record). */
  readonly sequence: number;
  /** chain.hash of that record (64 lowercase hex). */
  readonly hash: string;
  /** Compact JWS (EdDSA) over {chain_uid, sequence, hash, iat}. */
  readonly jws: string;
  /** ms since epoch, when the anchor was made. */
  readonly createdAt: number;
}

export interface AnchorStore {
  /** Records an anchor; the same (chainUid, sequence) twice keeps the first. */
  put(anchor: StoredAnchor): Promise<void>;
  /** The anchor with the highest sequence of the chain, or null when the chain has none. */
  newest(chainUid: string): Promise<StoredAnchor | null>;
  /** The newest anchor of every chain that has one made at or after `createdAtOrAfter`, oldest first. */
  newestPerChain(createdAtOrAfter: number): Promise<StoredAnchor[]>;
}
