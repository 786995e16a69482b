// The data plane reads bodies through the one shared edge helper (src/http/read-body.ts).
export { declaresBody, readBody } from '../http/read-body.js';
