/** Runs one backend operation, turning a backend failure into GatewayError('store_unavailable') (see each
 *  store's guard). Sub-stores (approvals, ledger, MCP sessions) share their parent store's guard. */
export type StoreGuard = <T>(operation: () => T) => Promise<T>;
