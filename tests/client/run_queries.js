// Runs N concurrent queries through the npm trino-client (the real client
// the tests and the switch_loss benchmark use) and prints one JSON line per
// event: {"event":"posted","index":i,"id":...} once a query's POST answered,
// then {"event":"done","index":i,"id":...,"outcome":"finished"|"failed",
// "rows":n,"error":"..."} when it ended. The last line is a summary.
//
// usage: node run_queries.js --server URL [--queries N] [--sql TEXT] [--user NAME]
'use strict';

const { Trino } = require('trino-client');

function parseArgs(argv) {
  const opts = { server: null, queries: 1, sql: 'SELECT 1', user: 'trino-guard-test' };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${key} needs a value`);
    if (key === '--server') opts.server = value;
    else if (key === '--queries') opts.queries = Number(value);
    else if (key === '--sql') opts.sql = value;
    else if (key === '--user') opts.user = value;
    else throw new Error(`unknown option ${key}`);
  }
  if (!opts.server) throw new Error('--server is required');
  if (!Number.isInteger(opts.queries) || opts.queries < 1 || opts.queries > 1000)
    throw new Error('--queries must be a whole number from 1 to 1000');
  return opts;
}

function print(record) {
  process.stdout.write(JSON.stringify(record) + '\n');
}

// The error text a failed poll gives: axios's message and the server's body.
function errorText(err) {
  const body = err && err.response && err.response.data;
  const status = err && err.response ? ` (HTTP ${err.response.status})` : '';
  const detail = typeof body === 'string' && body !== '' ? `: ${body}` : '';
  return `${err && err.message ? err.message : String(err)}${status}${detail}`;
}

async function runOne(trino, opts, index) {
  let id = null;
  try {
    const iter = await trino.query({ query: opts.sql, user: opts.user });
    id = iter.iter.queryResult.id;
    print({ event: 'posted', index, id });
    let rows = 0;
    let last = null;
    for await (const page of iter) {
      last = page;
      rows += page.data ? page.data.length : 0;
    }
    if (last && last.error) {
      return { event: 'done', index, id, outcome: 'failed', rows,
               error: `${last.error.errorName}: ${last.error.message}` };
    }
    return { event: 'done', index, id, outcome: 'finished', rows, error: '' };
  } catch (err) {
    return { event: 'done', index, id, outcome: 'failed', rows: 0, error: errorText(err) };
  }
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv);
  } catch (err) {
    process.stderr.write(`run_queries: ${err.message}\n`);
    process.exit(2);
  }
  const trino = Trino.create({ server: opts.server, user: opts.user, source: 'trino-guard-test' });
  const runs = [];
  for (let i = 0; i < opts.queries; i++)
    runs.push(runOne(trino, opts, i).then(result => { print(result); return result; }));
  const results = await Promise.all(runs);
  const failed = results.filter(r => r.outcome !== 'finished').length;
  print({ event: 'summary', queries: results.length, finished: results.length - failed, failed });
}

main();
