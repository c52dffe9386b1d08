/**
 * Extension-test entry point, in @vscode/test-electron's layout: VS Code's extension host calls
 * `run()` (from `extensionTestsPath`), which runs mocha over every `*.test.js` beside this file.
 * The counts are also written to `IOMMU_LENS_TEST_SUMMARY` (default out/vscode-suite-summary.json)
 * so a runner that cannot read the extension host's console (the browser harness) still has them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha = require('mocha');

/** Runs the suite; rejects when a test fails, as @vscode/test-electron expects. */
export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000, reporter: 'spec' });
  const grep = process.env.IOMMU_LENS_TEST_GREP;
  if (grep) mocha.grep(grep);
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  const summaryFile = process.env.IOMMU_LENS_TEST_SUMMARY
    ?? path.resolve(__dirname, '..', '..', '..', 'vscode-suite-summary.json');
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const s = runner.stats ?? { passes: 0, failures, pending: 0 };
      fs.mkdirSync(path.dirname(summaryFile), { recursive: true });
      fs.writeFileSync(summaryFile, JSON.stringify({ passed: s.passes, failed: s.failures, skipped: s.pending }) + '\n');
      if (failures > 0) reject(new Error(`${failures} extension test(s) failed`));
      else resolve();
    });
  });
}
