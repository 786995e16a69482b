// `npm run sample-tool`: the demo's billing API on 127.0.0.1:9001, where the example config
// (config/epochgate.yaml) expects it, so the README's quick start works end to end.
import { startSampleTool } from './sample-tool.js';

const port = Number(process.env.SAMPLE_TOOL_PORT ?? 9001);
startSampleTool(port).then(
  (tool) => process.stdout.write(`sample billing API listening on ${tool.url}/api (invoices: GET /api/invoices/<id>)\n`),
  (err: unknown) => {
    process.stderr.write(`sample-tool: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
