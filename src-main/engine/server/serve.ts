/**
 * Browser mode: serves the built renderer and the QuantScopeApi over HTTP on loopback.
 *
 * Hand-written on node:http rather than a framework: the surface is one static-file route, one
 * POST route per method of the contract's table and one Server-Sent Events stream, and every request must pass the
 * same explicit checks (Host/Origin against DNS rebinding, the token, body size and JSON shape).
 * Keeping those checks in plain sight in ~300 lines is easier to audit than a framework's
 * middleware order, and adds no dependency to the CLI bundle.
 *
 * Protocol: POST /api/<method> with a JSON array of arguments (Content-Type: application/json);
 * 200 with the JSON result, or an error status with { "message": "<one line>" }: 400 for arguments
 * the method table refuses, 404 for a run or record id the engine does not know, 422 for any other
 * refusal of the engine.
 * GET /api/events is an SSE stream of RunEvent (one JSON object per `data:` line).
 * PUT /api/upload?name=<x.gguf> streams a file (application/octet-stream) into this server's upload
 * folder and opens it; the files of a split model come one request each, into one folder, with a
 * shared set id, and DELETE /api/upload?set=<id> ends a set that is not to be completed; see handleUpload.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  API_ROUTE_PREFIX,
  EVENTS_ROUTE,
  LIMITS,
  SECURITY_HEADERS,
  UPLOAD_ROUTE,
  UPLOAD_SET_ID,
  createApiHandlers,
  isApiArgumentError,
  isApiMethod,
  isNotFoundError,
  mimeType,
  oneLine,
  wireStringify,
  type EngineApi,
  type ShellHooks,
} from '../../../src-shared/contract';
import { isInsideDir, resolveTypedPath } from '../paths';
import { MAX_SPLIT_FILES, splitFileName, splitNameParts, splitSet } from '../../../src-shared/split-name';
import { hostAllowed, tokenCookieName, originAllowed, presentedToken, tokenMatches } from './security';

export interface ServerOptions {
  host: string;
  port: number;
  /** folders whose files (and sub-folders' files) may be opened; empty = the samples folder */
  modelDirs: string[];
  /** served only when modelDirs is empty */
  samplesDir: string;
  /** the built renderer (out/renderer) */
  uiDir: string;
  /** fixed token (tests, scripts); default: 24 random bytes */
  token?: string;
  /** engine to serve (tests); default: a new EngineService in browser mode, disposed on close */
  engine?: EngineApi;
  /** host names besides IP literals and localhost that the Host header may carry */
  allowedHostNames?: string[];
  /**
   * the largest upload accepted, in bytes (default DEFAULT_MAX_UPLOAD_BYTES): one file, or all the
   * files of a split model together
   */
  maxUploadBytes?: number;
  /** where the per-instance upload folder is made (default: the system's temporary folder) */
  uploadParent?: string;
  /** how long an upload may send nothing, or a split model's upload wait for its next file (default UPLOAD_IDLE_MS) */
  uploadIdleMs?: number;
}

/** 64 GiB: larger than the largest models people run on one GPU, smaller than a runaway stream. */
export const DEFAULT_MAX_UPLOAD_BYTES = 64 * 2 ** 30;
/**
 * an upload that sends nothing for this long is dropped (its partial file removed), and so is a split
 * model's upload set whose next file does not start within it (all its files removed)
 */
export const UPLOAD_IDLE_MS = 120_000;
/** the ids of this many ended upload sets are remembered, so a late file of one is refused */
const ENDED_SETS_KEPT = 4096;
/** a JSON call's body must arrive within this */
const BODY_DEADLINE_MS = 60_000;

export interface RunningServer {
  url: string;
  token: string;
  port: number;
  /** this instance's upload folder (removed by close and when the process exits) */
  uploadDir: string;
  close(): Promise<void>;
}

const MAX_SSE_CLIENTS = 32;
const SSE_HEARTBEAT_MS = 15_000;

/** Whether an Accept header asks for a page (a browser navigation), not data. */
function acceptsHtml(accept: string | undefined): boolean {
  return typeof accept === 'string' && /\btext\/html\b/i.test(accept);
}

/** The page a browser navigation without a valid token gets (401): paste the printed URL's token. */
const TOKEN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>QuantScope: access token needed</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
code{background:#eee;padding:0 .3em;border-radius:3px}input{width:100%;box-sizing:border-box;padding:.4em;font:inherit}
button{margin-top:.6em;padding:.4em 1.2em;font:inherit}</style></head>
<body><h1>Access token needed</h1>
<p>This QuantScope server needs the access token it printed when it started
(<code>quantscope serve</code> prints a URL ending in <code>?token=…</code>). A restarted server has a new one.</p>
<p>Open that URL, or paste its token here:</p>
<form method="get" action="/"><input name="token" aria-label="Access token" autofocus
placeholder="token from the printed URL" required><button type="submit">Open QuantScope</button></form>
</body></html>
`;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function realDir(dir: string, what: string): Promise<string> {
  let real: string;
  try {
    real = await fsp.realpath(dir);
  } catch {
    throw new Error(`${what} not found: ${dir}`);
  }
  const st = await fsp.stat(real);
  if (!st.isDirectory()) throw new Error(`${what} is not a folder: ${dir}`);
  return real;
}

/** The name an uploaded file is kept under: its base name, printable, ending in .gguf. */
export function uploadFileName(raw: string | null): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  const chars = [
    ...[...base]
      .filter((c) => c.charCodeAt(0) > 0x1f && c.charCodeAt(0) !== 0x7f)
      .join('')
      .trim(),
  ];
  // the end of the name, at most 200 bytes of UTF-8 (file names hold 255), cut between characters
  let from = chars.length;
  for (let bytes = 0; from > 0 && bytes + Buffer.byteLength(chars[from - 1]) <= 200; from--)
    bytes += Buffer.byteLength(chars[from - 1]);
  const clean = chars.slice(from).join('');
  if (!clean || clean === '.gguf' || !/\.gguf$/i.test(clean))
    throw new HttpError(400, `only .gguf files can be uploaded (got '${clean.slice(0, 80) || 'no name'}')`);
  return clean;
}

const UPLOAD_DIR_PREFIX = 'quantscope-uploads-';

/** The files of one split model on their way, one request each, into one folder (handleUpload). */
interface UploadSet {
  /** the set's folder below the upload folder */
  dir: string;
  /** the model's name prefix and count of files, as the first file's name says */
  prefix: string;
  count: number;
  /** the bytes of all the files, as every request of the set declares */
  total: number;
  /** the bytes of the files stored so far */
  received: number;
  /** the names stored so far */
  names: Set<string>;
  /** a file is arriving: the next may start only when it is stored */
  busy: boolean;
  /** removes the set when its next file does not start in time */
  idle: NodeJS.Timeout | null;
  /** aborts the file that is arriving when the set ends */
  abort: AbortController;
}

/** The set id of an upload request: UPLOAD_SET_ID, exactly. */
function uploadSetId(raw: string): string {
  if (!UPLOAD_SET_ID.test(raw))
    throw new HttpError(400, 'an upload set id must be 32 lowercase hexadecimal digits');
  return raw;
}

/**
 * Removes the upload folders of servers that ended without cleaning up (killed): this user's
 * folders named for a process that no longer exists.
 */
async function removeOrphanedUploads(parent: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const m = new RegExp(`^${UPLOAD_DIR_PREFIX}(\\d+)-`).exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
      continue; // still running
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    const dir = path.join(parent, name);
    const st = await fsp.lstat(dir).catch(() => null);
    if (st?.isDirectory() && (process.getuid === undefined || st.uid === process.getuid()))
      await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function validateToken(token: string): string {
  if (!/^[A-Za-z0-9._~-]{8,256}$/.test(token))
    throw new Error('token must be 8-256 characters of letters, digits, ".", "_", "~" or "-"');
  return token;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = opts.token !== undefined ? validateToken(opts.token) : randomBytes(24).toString('base64url');
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)
    throw new Error(`port must be an integer 0..65535, got ${opts.port}`);

  // Roots that openModel may read from, resolved through symlinks once: the model folders named, or
  // without any, the samples folder (then the upload folder).
  const roots: string[] = [];
  for (const d of opts.modelDirs) roots.push(await realDir(d, 'models folder'));
  const modelRoots = [...roots];
  const samplesReal =
    roots.length === 0 ? await realDir(opts.samplesDir, 'samples folder').catch(() => null) : null;
  if (samplesReal) roots.push(samplesReal);
  if (roots.length === 0)
    throw new Error(`no model folders: the samples folder ${opts.samplesDir} does not exist`);
  const maxUpload = opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  if (!Number.isSafeInteger(maxUpload) || maxUpload < 0)
    throw new Error(`the upload limit must be a whole number of bytes, got ${maxUpload}`);
  // This instance's uploads: a private folder, removed when the server closes or the process exits.
  const uploadParent = opts.uploadParent ?? tmpdir();
  await removeOrphanedUploads(uploadParent);
  const uploadDir = await fsp.realpath(
    await fsp.mkdtemp(path.join(uploadParent, `${UPLOAD_DIR_PREFIX}${process.pid}-`)),
  );
  await fsp.chmod(uploadDir, 0o700);
  roots.push(uploadDir);
  const removeUploads = (): void => rmSync(uploadDir, { recursive: true, force: true });
  const idleMs = opts.uploadIdleMs ?? UPLOAD_IDLE_MS;
  if (!Number.isSafeInteger(idleMs) || idleMs <= 0)
    throw new Error(`the upload idle time must be a whole number of milliseconds above 0, got ${idleMs}`);
  process.on('exit', removeUploads);

  const uiDir = path.resolve(opts.uiDir);

  let engine = opts.engine;
  const ownsEngine = !engine;
  if (!engine) {
    const { EngineService } = await import('../service');
    const { recordStoreFor } = await import('../records/build');
    engine = new EngineService({
      mode: 'browser',
      samplesDir: samplesReal,
      modelDirs: modelRoots,
      uploadDir,
      restrictToDirs: true,
      // QS_RECORDS_DIR or the default folder; QS_NO_RECORD=1 turns recording off
      records: recordStoreFor({}),
    });
  }
  const eng: EngineApi = engine;

  const sseClients = new Set<ServerResponse>();
  let port = opts.port;

  /**
   * The real path of a model the page asks for. A path outside the roots gets the same 403 whether
   * or not it exists (a missing one is resolved through its deepest existing folder), so the answer
   * never tells which files exist outside them; only a missing file inside a root is a 404. A
   * relative path is taken in the first root, as the engine's completePath takes it.
   */
  async function checkModelPath(p: string): Promise<string> {
    const outside = () =>
      new HttpError(
        403,
        `${p} is outside the model folders (start the server with --models <dir> to add one)`,
      );
    const abs = resolveTypedPath(p, roots[0]);
    const real = await fsp.realpath(abs).catch(() => null);
    if (real !== null) {
      if (!roots.some((r) => isInsideDir(r, real))) throw outside();
      return real;
    }
    let dir = path.dirname(abs);
    let rest = path.basename(abs);
    for (;;) {
      const realDirPath = await fsp.realpath(dir).catch(() => null);
      if (realDirPath !== null) {
        const would = path.join(realDirPath, rest);
        if (!roots.some((r) => isInsideDir(r, would))) throw outside();
        throw new HttpError(404, `model file not found: ${p}`);
      }
      const up = path.dirname(dir);
      if (up === dir) throw outside();
      rest = path.join(path.basename(dir), rest);
      dir = up;
    }
  }

  // The server's own part of the method table; every other method goes to the engine as it came.
  const hooks: ShellHooks = {
    // No native dialog in browser mode; the UI lists listModelFiles().
    pickModelFile: async () => null,
    // Nor for code objects and float32 files: the page takes a path, which the engine checks.
    pickFile: async () => null,
    // Open the resolved path that was checked, so a link swapped afterwards cannot redirect the read.
    openModel: async ([p], forward) => forward([await checkModelPath(p)]),
  };
  const handlers = createApiHandlers(
    (method, args) => (eng[method] as (...a: unknown[]) => Promise<unknown>)(...args),
    hooks,
  );

  function send(
    res: ServerResponse,
    status: number,
    body: unknown,
    extra: Record<string, string> = {},
  ): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = wireStringify(body === undefined ? null : body);
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      ...extra,
    });
    res.end(text);
  }

  function sendTokenPage(res: ServerResponse): void {
    const body = TOKEN_PAGE;
    res.writeHead(401, {
      ...SECURITY_HEADERS,
      // The page's one form submits ?token=... back to this server; it runs no script.
      'Content-Security-Policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  function sendError(res: ServerResponse, status: number, message: string): void {
    send(res, status, { message });
  }

  function readBody(req: IncomingMessage, res: ServerResponse): Promise<string> {
    return new Promise((resolve, reject) => {
      const tooLarge = () => new HttpError(413, `request body too large (limit ${LIMITS.bodyBytes} bytes)`);
      // a refusal before the body has ended: the answer is written first, then the connection closes
      // (destroying the request at once would lose the answer)
      let refused = false;
      const refuse = (err: HttpError) => {
        if (refused || res.headersSent) return;
        refused = true;
        res.setHeader('Connection', 'close');
        res.once('finish', () => req.destroy());
        reject(err);
      };
      const declared = Number(req.headers['content-length'] ?? '0');
      if (declared > LIMITS.bodyBytes) {
        refuse(tooLarge());
        return;
      }
      // The server's own request timeout is off (uploads may take hours); JSON calls keep a deadline.
      const deadline = setTimeout(
        () => refuse(new HttpError(408, 'the request body did not arrive in time')),
        BODY_DEADLINE_MS,
      );
      deadline.unref();
      req.once('close', () => clearTimeout(deadline));
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        // past the limit the rest is read and dropped, so the 413 reaches the client; far past it
        // the connection is not worth keeping
        if (size > 4 * LIMITS.bodyBytes) refuse(tooLarge());
        else if (size <= LIMITS.bodyBytes) chunks.push(c);
      });
      req.on('end', () => {
        clearTimeout(deadline);
        if (size > LIMITS.bodyBytes) reject(tooLarge());
        else resolve(Buffer.concat(chunks).toString('utf8'));
      });
      req.on('error', reject);
    });
  }

  async function handleApiCall(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (req.method !== 'POST') throw new HttpError(405, `use POST for /api/${method}`);
    if (!isApiMethod(method)) throw new HttpError(404, `unknown API method '${method.slice(0, 60)}'`);
    const ctype = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const raw = await readBody(req, res);
    // Requiring JSON makes a cross-site form post impossible without a CORS preflight (which we never grant).
    if (raw.length > 0 && ctype !== 'application/json')
      throw new HttpError(415, 'request body must be application/json');
    let args: unknown = [];
    if (raw.trim().length > 0) {
      try {
        args = JSON.parse(raw);
      } catch (e) {
        throw new HttpError(400, `malformed JSON body: ${oneLine(e)}`);
      }
    }
    if (!Array.isArray(args)) throw new HttpError(400, `${method}: arguments must be a JSON array`);
    let value: unknown;
    try {
      value = await handlers[method](args);
    } catch (e) {
      if (e instanceof HttpError) throw e;
      // arguments the method table refuses: 400; a run or record id the engine does not know: 404;
      // anything else the engine refuses: 422
      throw new HttpError(isApiArgumentError(e) ? 400 : isNotFoundError(e) ? 404 : 422, oneLine(e));
    }
    send(res, 200, value);
  }

  /** Split models on their way, by set id; and the ids of ended sets (a late file of one is refused). */
  const uploadSets = new Map<string, UploadSet>();
  const endedSets = new Set<string>();

  /** Remembers an id as ended: a later file sent with it is refused. */
  function spendSetId(id: string): void {
    endedSets.add(id);
    if (endedSets.size > ENDED_SETS_KEPT) endedSets.delete(endedSets.values().next().value!);
  }

  /**
   * Ends a set: its id is not taken again, and unless `keep` (its model opened), its folder and every
   * file in it go, the one arriving included (refused with `why`).
   */
  async function endSet(id: string, keep = false, why = 'another file of this upload failed'): Promise<void> {
    const set = uploadSets.get(id);
    if (!set) return;
    uploadSets.delete(id);
    spendSetId(id);
    if (set.idle) clearTimeout(set.idle);
    if (keep) return;
    set.abort.abort(new HttpError(409, why));
    await fsp.rm(set.dir, { recursive: true, force: true }).catch(() => undefined);
  }

  /**
   * PUT (or POST) /api/upload?name=x.gguf: the body, streamed to <uploadDir>/<random>/<name> as it
   * arrives (never held in memory), then opened with the same checks and parser as any model. Over
   * the size limit (declared or counted), aborted, or not a GGUF file: the partial file is removed
   * and the answer is one line. application/octet-stream is required: a cross-site page cannot send
   * it without a CORS preflight, which this server never grants.
   *
   * With set=<id> (UPLOAD_SET_ID) the file is one of a split model's, which come one request each
   * into one folder (the set's; see handleSetFile), and the last, with open=1, opens the model.
   *
   * DELETE /api/upload?set=<id> ends a set at once (its user cancelled the upload): the file
   * arriving is cut off, the files stored are removed, and the id is spent, instead of the set
   * waiting out the idle time for a next file that will not come. It answers { ended }: whether the
   * set was on its way. Like every request it passes the Host, Origin and token checks, and a
   * cross-site page cannot send a DELETE without a CORS preflight, which this server never grants.
   */
  async function handleUpload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // A refusal may come before the body is read: the connection closes after the answer.
    res.setHeader('Connection', 'close');
    const setParam = url.searchParams.get('set');
    if (req.method === 'DELETE') {
      if (setParam === null)
        throw new HttpError(400, `DELETE ${UPLOAD_ROUTE} needs set=<id>: the upload set to end`);
      const id = uploadSetId(setParam);
      const ended = uploadSets.has(id);
      if (ended) await endSet(id, false, 'the upload was cancelled');
      else spendSetId(id);
      send(res, 200, { ended });
      return;
    }
    if (setParam !== null) {
      const id = uploadSetId(setParam);
      try {
        return await handleSetFile(req, res, url, id);
      } catch (e) {
        // any file refused ends its set: no part of an unfinished model stays
        await endSet(id);
        throw e;
      }
    }
    checkUploadRequest(req);
    const name = uploadFileName(url.searchParams.get('name'));
    const tooLarge = () =>
      new HttpError(413, `${name} is larger than the upload limit of ${maxUpload} bytes (--max-upload)`);
    const declared = declaredLength(req);
    if (declared !== null && declared > maxUpload) throw tooLarge();
    if (declared !== null) await checkFreeSpace(declared, name);
    const dir = path.join(uploadDir, randomBytes(8).toString('hex'));
    await fsp.mkdir(dir, { mode: 0o700 });
    const file = path.join(dir, name);
    try {
      await receiveFile(req, file, maxUpload, tooLarge);
    } catch (e) {
      await fsp.rm(dir, { recursive: true, force: true });
      if (e instanceof HttpError) throw e;
      throw new HttpError(400, `the upload of ${name} did not complete: ${oneLine(e)}`);
    }
    await openUpload(dir, file, res);
  }

  /** What every upload request must be: a PUT (or POST) of application/octet-stream. */
  function checkUploadRequest(req: IncomingMessage): void {
    if (req.method !== 'PUT' && req.method !== 'POST')
      throw new HttpError(405, `use PUT for ${UPLOAD_ROUTE} (DELETE with set=<id> ends an upload set)`);
    const ctype = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (ctype !== 'application/octet-stream')
      throw new HttpError(415, 'an upload body must be application/octet-stream');
  }

  /** The body's declared length (Content-Length), or null for a chunked body. */
  function declaredLength(req: IncomingMessage): number | null {
    const raw = req.headers['content-length'];
    return raw !== undefined ? Number(raw) : null;
  }

  async function checkFreeSpace(bytes: number, what: string): Promise<void> {
    const fsStat = await fsp.statfs(uploadDir).catch(() => null);
    if (fsStat && bytes > fsStat.bavail * fsStat.bsize)
      throw new HttpError(507, `not enough free space in ${path.dirname(uploadDir)} for ${what}`);
  }

  /** Opens an uploaded model from `file`, and answers with it; one that does not open goes with its folder. */
  async function openUpload(dir: string, file: string, res: ServerResponse): Promise<void> {
    let summary: unknown;
    try {
      summary = await handlers.openModel([file]);
    } catch (e) {
      // Nothing else can use a file that does not parse: it goes now.
      await fsp.rm(dir, { recursive: true, force: true });
      throw new HttpError(422, oneLine(e));
    }
    send(res, 200, summary);
  }

  /**
   * One file of a split model's upload set: ?name=<prefix-0000i-of-0000n.gguf>&set=<id>&total=<bytes of
   * all the files>[&open=1]. The first file of a set (any of its files, in any order) makes the set's
   * folder; the files come one at a time, each named as a file of the same model, each declaring the
   * same total, which the limit (--max-upload, for all the files together) and the free space are
   * checked against before a byte is stored; the bytes counted may not pass it. A file stored answers
   * { files, bytes } (the set so far); the one with open=1 then checks that the set is complete
   * (every file of the model, once) and opens the model from its first file. The caller ends the set
   * on any refusal, removing its folder; a set whose next file does not start within the idle time
   * (UPLOAD_IDLE_MS) is removed too.
   */
  async function handleSetFile(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    id: string,
  ): Promise<void> {
    if (endedSets.has(id))
      throw new HttpError(
        409,
        'this upload set has ended (a file of it failed, it waited too long, or its model opened): send all of its files again with a new set id',
      );
    checkUploadRequest(req);
    const name = uploadFileName(url.searchParams.get('name'));
    const parts = splitNameParts(name);
    if (!parts || parts.count < 2)
      throw new HttpError(
        400,
        `${name} is not a file of a split model (name-00001-of-00003.gguf ...): a model in one file is uploaded without a set`,
      );
    if (parts.count > MAX_SPLIT_FILES)
      throw new HttpError(
        400,
        `${name} is one of ${parts.count} files of a split model; QuantScope opens at most ${MAX_SPLIT_FILES} files for one model`,
      );
    const totalRaw = url.searchParams.get('total') ?? '';
    const total = /^\d{1,16}$/.test(totalRaw) ? Number(totalRaw) : NaN;
    if (!Number.isSafeInteger(total))
      throw new HttpError(400, 'an upload set needs total=<the bytes of all its files>, a whole number');
    const openParam = url.searchParams.get('open');
    if (openParam !== null && openParam !== '1')
      throw new HttpError(400, 'open=1 marks the last file of an upload set; no other value is taken');
    const firstName = splitFileName(parts.prefix, 0, parts.count);

    let set = uploadSets.get(id);
    if (set) {
      if (set.busy)
        throw new HttpError(409, `${name} came while another file of its upload set was arriving`);
      if (parts.prefix !== set.prefix || parts.count !== set.count)
        throw new HttpError(
          400,
          `${name} is not a file of ${splitFileName(set.prefix, 0, set.count)}, whose upload set it was sent in`,
        );
      if (total !== set.total)
        throw new HttpError(
          400,
          `${name} declares ${total} bytes for its upload set, which declared ${set.total}`,
        );
      if (set.names.has(name)) throw new HttpError(409, `${name} was already uploaded in this set`);
      set.busy = true;
    } else {
      if (total > maxUpload)
        throw new HttpError(
          413,
          `the ${parts.count} files of ${firstName} (${total} bytes) are larger than the upload limit of ${maxUpload} bytes (--max-upload)`,
        );
      set = {
        dir: path.join(uploadDir, randomBytes(8).toString('hex')),
        prefix: parts.prefix,
        count: parts.count,
        total,
        received: 0,
        names: new Set(),
        busy: true,
        idle: null,
        abort: new AbortController(),
      };
      uploadSets.set(id, set);
      await fsp.mkdir(set.dir, { mode: 0o700 });
    }
    // busy from here until the file is stored: a file of the same set that comes meanwhile is refused
    const current = set;
    if (current.idle) clearTimeout(current.idle);
    current.idle = null;
    const left = current.total - current.received;
    const tooLarge = () =>
      new HttpError(
        413,
        `${name}: the files of ${firstName} are larger than the ${current.total} bytes their upload set declared`,
      );
    const declared = declaredLength(req);
    if (declared !== null && declared > left) throw tooLarge();
    // the first file checks the space for the whole set, each later one for what is still to come
    await checkFreeSpace(left, `the ${current.count} files of ${firstName}`);

    let size: number;
    try {
      size = await receiveFile(req, path.join(current.dir, name), left, tooLarge, current.abort.signal);
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(400, `the upload of ${name} did not complete: ${oneLine(e)}`);
    }
    current.busy = false;
    current.received += size;
    current.names.add(name);

    if (openParam === null) {
      current.idle = setTimeout(() => void endSet(id), idleMs);
      current.idle.unref();
      send(res, 200, { files: current.names.size, bytes: current.received });
      return;
    }
    const complete = splitSet([...current.names]);
    if ('problem' in complete) throw new HttpError(422, complete.problem);
    // the set is done: its folder stays as the upload of its model, or goes if the model does not open
    const dir = current.dir;
    await endSet(id, true);
    await openUpload(dir, path.join(dir, complete.names[0]), res);
  }

  /**
   * Writes the request body to file as it arrives, pausing the request while the disk catches up;
   * resolves with its size. Past `limit` bytes, the rest of the body is read and dropped (not the
   * connection), so the client gets the one-line refusal; a connection that closes early or stalls
   * for the idle time (UPLOAD_IDLE_MS) fails, and so does `signal`'s abort (with its reason).
   */
  function receiveFile(
    req: IncomingMessage,
    file: string,
    limit: number,
    tooLarge: () => HttpError,
    signal?: AbortSignal,
  ): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
      let size = 0;
      let failed = false;
      const fail = (e: unknown): void => {
        if (failed) return;
        failed = true;
        clearTimeout(idle);
        signal?.removeEventListener('abort', onAbort);
        req.off('data', onData);
        req.resume();
        out.destroy();
        // the file handle closes before the caller removes the file
        if (out.closed) reject(e);
        else out.once('close', () => reject(e));
      };
      const onAbort = (): void => fail(signal!.reason);
      const onData = (chunk: Buffer): void => {
        idle.refresh();
        size += chunk.length;
        if (size > limit) return fail(tooLarge());
        if (!out.write(chunk)) {
          req.pause();
          out.once('drain', () => req.resume());
        }
      };
      const idle = setTimeout(() => {
        fail(new Error(`nothing arrived for ${idleMs / 1000} s`));
        req.destroy();
      }, idleMs);
      idle.unref();
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('data', onData);
      req.on('end', () => {
        clearTimeout(idle);
        if (!failed) out.end();
      });
      req.on('close', () => {
        clearTimeout(idle);
        if (!req.complete) fail(new Error('the connection closed before the end of the file'));
      });
      req.on('error', fail);
      out.on('error', fail);
      out.on('finish', () => {
        signal?.removeEventListener('abort', onAbort);
        if (!failed) resolve(size);
      });
    });
  }

  function handleEvents(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET') throw new HttpError(405, 'use GET for /api/events');
    if (sseClients.size >= MAX_SSE_CLIENTS) throw new HttpError(429, 'too many event streams open');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    sseClients.add(res);
    const unsubscribe = eng.onRunEvent((ev) => {
      res.write(`event: run\ndata: ${wireStringify(ev)}\n\n`);
    });
    const beat = setInterval(() => res.write(': ping\n\n'), SSE_HEARTBEAT_MS);
    beat.unref();
    const done = (): void => {
      clearInterval(beat);
      unsubscribe();
      sseClients.delete(res);
    };
    req.on('close', done);
    res.on('close', done);
  }

  async function handleStatic(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    setCookie: boolean,
  ): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new HttpError(405, `${req.method} is not allowed here`);
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      throw new HttpError(400, 'malformed path');
    }
    if (rel.includes('\0')) throw new HttpError(400, 'malformed path');
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = path.resolve(uiDir, `.${rel}`);
    if (!isInsideDir(uiDir, file)) throw new HttpError(404, 'not found');
    let st;
    try {
      st = await fsp.stat(file);
    } catch {
      if (rel === '/index.html')
        throw new HttpError(
          503,
          `the UI is not built (no ${path.join(uiDir, 'index.html')}): run \`npm run build\``,
        );
      throw new HttpError(404, `not found: ${rel.slice(0, 200)}`);
    }
    if (!st.isFile()) throw new HttpError(404, `not found: ${rel.slice(0, 200)}`);
    const headers: Record<string, string | number> = {
      ...SECURITY_HEADERS,
      'Content-Type': mimeType(file),
      'Content-Length': st.size,
    };
    if (setCookie)
      headers['Set-Cookie'] = `${tokenCookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict`;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host;
    if (!hostAllowed(host, port, opts.allowedHostNames ?? []))
      throw new HttpError(403, 'forbidden: unexpected Host header (open the URL the server printed)');
    const origin = req.headers.origin;
    if (!originAllowed(origin, host)) throw new HttpError(403, 'forbidden: cross-origin request');
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site') throw new HttpError(403, 'forbidden: cross-site request');

    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw new HttpError(400, 'malformed request URL');
    }
    const presented = presentedToken(
      { authorization: req.headers.authorization, cookie: req.headers.cookie },
      url,
      tokenCookieName(port),
    );
    if (!tokenMatches(presented, token)) {
      // A browser navigation (a reload after the server restarted with a new token) gets a page that
      // asks for the new URL, not the API's JSON error.
      if (req.method === 'GET' && !url.pathname.startsWith('/api/') && acceptsHtml(req.headers.accept))
        return sendTokenPage(res);
      throw new HttpError(
        401,
        'missing or wrong token: open the URL with ?token=... that `quantscope serve` printed',
      );
    }

    if (url.pathname === EVENTS_ROUTE) return handleEvents(req, res);
    if (url.pathname === UPLOAD_ROUTE) return handleUpload(req, res, url);
    if (url.pathname.startsWith(API_ROUTE_PREFIX))
      return handleApiCall(req, res, url.pathname.slice(API_ROUTE_PREFIX.length));
    // The page load that carries ?token= sets the cookie so later loads and requests need no query.
    return handleStatic(req, res, url, url.searchParams.has('token'));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof HttpError) sendError(res, e.status, e.message);
      else sendError(res, 500, `internal error: ${oneLine(e)}`);
    });
  });
  server.headersTimeout = 20_000;
  // Off: an upload may take hours. JSON bodies have their own deadline (readBody), uploads an idle one.
  server.requestTimeout = 0;

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      reject(
        new Error(
          e.code === 'EADDRINUSE'
            ? `port ${opts.port} on ${opts.host} is already in use (use --port 0 for a free one)`
            : `cannot listen on ${opts.host}:${opts.port}: ${e.message}`,
        ),
      );
    };
    server.once('error', onError);
    server.listen(opts.port, opts.host, () => {
      server.off('error', onError);
      resolve();
    });
  }).catch(async (e) => {
    if (ownsEngine) await eng.dispose().catch(() => undefined);
    process.off('exit', removeUploads);
    removeUploads();
    throw e;
  });
  port = (server.address() as AddressInfo).port;

  const shownHost =
    opts.host === '0.0.0.0'
      ? '127.0.0.1'
      : opts.host === '::'
        ? '[::1]'
        : opts.host.includes(':')
          ? `[${opts.host}]`
          : opts.host;
  const url = `http://${shownHost}:${port}/?token=${encodeURIComponent(token)}`;

  let closed = false;
  return {
    url,
    token,
    port,
    uploadDir,
    async close() {
      if (closed) return;
      closed = true;
      for (const c of sseClients) c.end();
      sseClients.clear();
      for (const set of uploadSets.values()) if (set.idle) clearTimeout(set.idle);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (ownsEngine) await eng.dispose();
      process.off('exit', removeUploads);
      removeUploads();
    },
  };
}
