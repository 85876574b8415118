// A Python pickle reader (protocols 0-5, less the opcodes nobody writes anymore) that never runs code.
// Python values map to JS: None → null, bool → boolean, int → number (bigint beyond 2^53), float → number,
// str → string, bytes → Uint8Array, list and tuple → Array, dict → Map, set → Set.
// A class or function reference is a PyGlobal; calling one (REDUCE, NEWOBJ) asks the caller's `construct` hook,
// then a few builtins (OrderedDict, set, ...), and otherwise yields a PyObject that records the call and its state.

export class PickleError extends Error {
  override name = 'PickleError';
}

/** A reference to a module-level Python name, e.g. `torch._utils._rebuild_tensor_v2`. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get path(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An instance of a class this reader knows nothing about: the call that made it and the state it was given. */
export class PyObject {
  /** Whatever BUILD supplied: for ordinary objects the instance `__dict__` as a Map. */
  state: unknown = null;

  constructor(
    readonly className: string,
    readonly args: readonly unknown[],
  ) {}

  /** The value of attribute `name` when the state is an instance dict, else undefined. */
  attribute(name: string): unknown {
    return this.state instanceof Map ? this.state.get(name) : undefined;
  }
}

export interface UnpickleHooks {
  /**
   * Builds the value a REDUCE or NEWOBJ of `className` (e.g. 'collections.OrderedDict') makes from `args`.
   * Returns undefined for classes it does not handle.
   */
  construct?(className: string, args: readonly unknown[]): unknown;
  /** Resolves a persistent id (BINPERSID / PERSID); without it such pickles are rejected. */
  persistentLoad?(pid: unknown): unknown;
}

// Python 2 spelled these modules differently; protocol 2 pickles written by Python 3 still use the old names.
const MODULE_ALIASES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

/** Unpickles `data`; throws PickleError on malformed input or unsupported opcodes. */
export function unpickle(data: Uint8Array, hooks: UnpickleHooks = {}): unknown {
  return new Unpickler(data, hooks).run();
}

class Unpickler {
  readonly #data: Uint8Array;
  readonly #view: DataView;
  readonly #hooks: UnpickleHooks;
  readonly #utf8 = new TextDecoder('utf-8', { fatal: true });
  #pos = 0;
  #stack: unknown[] = [];
  readonly #marks: number[] = [];
  readonly #memo = new Map<number, unknown>();

  constructor(data: Uint8Array, hooks: UnpickleHooks) {
    this.#data = data;
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.#hooks = hooks;
  }

  run(): unknown {
    for (;;) {
      const at = this.#pos;
      const opcode = this.#u8();
      try {
        if (opcode === 0x2e /* STOP '.' */) {
          if (this.#stack.length !== 1 || this.#marks.length) {
            throw new PickleError(`STOP with ${this.#stack.length} values and ${this.#marks.length} open marks on the stack`);
          }
          return this.#stack[0];
        }
        this.#step(opcode);
      } catch (error) {
        if (error instanceof PickleError && !error.message.includes(' at byte ')) {
          throw new PickleError(`${error.message} (opcode 0x${opcode.toString(16)} at byte ${at})`);
        }
        throw error;
      }
    }
  }

  #step(opcode: number): void {
    const push = (value: unknown): void => void this.#stack.push(value);
    switch (opcode) {
      // ---- framing and protocol ----
      case 0x80: { // PROTO
        const protocol = this.#u8();
        if (protocol > 5) throw new PickleError(`unsupported pickle protocol ${protocol}`);
        return;
      }
      case 0x95: // FRAME: frames only help streaming readers; we hold the whole pickle.
        this.#bytes(8);
        return;

      // ---- stack manipulation ----
      case 0x28: // MARK
        this.#marks.push(this.#stack.length);
        return;
      case 0x30: // POP
        if (this.#marks.length && this.#marks[this.#marks.length - 1] === this.#stack.length) this.#popMark();
        else this.#pop();
        return;
      case 0x31: // POP_MARK
        this.#popMark();
        return;
      case 0x32: // DUP
        push(this.#top());
        return;

      // ---- memo ----
      case 0x70: // PUT (text)
        this.#memo.set(this.#decimalLine(), this.#top());
        return;
      case 0x71: // BINPUT
        this.#memo.set(this.#u8(), this.#top());
        return;
      case 0x72: // LONG_BINPUT
        this.#memo.set(this.#u32(), this.#top());
        return;
      case 0x94: // MEMOIZE
        this.#memo.set(this.#memo.size, this.#top());
        return;
      case 0x67: // GET (text)
        return push(this.#memoGet(this.#decimalLine()));
      case 0x68: // BINGET
        return push(this.#memoGet(this.#u8()));
      case 0x6a: // LONG_BINGET
        return push(this.#memoGet(this.#u32()));

      // ---- scalars ----
      case 0x4e: // NONE
        return push(null);
      case 0x88: // NEWTRUE
        return push(true);
      case 0x89: // NEWFALSE
        return push(false);
      case 0x4b: // BININT1
        return push(this.#u8());
      case 0x4d: // BININT2
        return push(this.#u16());
      case 0x4a: // BININT
        return push(this.#i32());
      case 0x8a: // LONG1
        return push(this.#long(this.#u8()));
      case 0x8b: // LONG4
        return push(this.#long(this.#i32()));
      case 0x47: // BINFLOAT (big-endian double)
        return push(this.#view.getFloat64(this.#advance(8), false));
      case 0x49: { // INT (text); "00"/"01" are protocol 0's booleans
        const text = this.#line();
        return push(text === '00' ? false : text === '01' ? true : this.#integer(text));
      }
      case 0x4c: // LONG (text, optional trailing L)
        return push(this.#integer(this.#line().replace(/L$/, '')));
      case 0x46: { // FLOAT (text)
        const text = this.#line();
        const value = Number(text);
        if (Number.isNaN(value) && !/nan/i.test(text)) throw new PickleError(`FLOAT with invalid text '${text}'`);
        return push(value);
      }

      // ---- strings and bytes ----
      case 0x58: // BINUNICODE
        return push(this.#text(this.#u32()));
      case 0x8c: // SHORT_BINUNICODE
        return push(this.#text(this.#u8()));
      case 0x8d: // BINUNICODE8
        return push(this.#text(this.#u64()));
      case 0x54: // BINSTRING (Python 2 str, decoded as UTF-8 like torch.load does)
        return push(this.#text(this.#i32()));
      case 0x55: // SHORT_BINSTRING
        return push(this.#text(this.#u8()));
      case 0x42: // BINBYTES
        return push(new Uint8Array(this.#bytes(this.#u32())));
      case 0x43: // SHORT_BINBYTES
        return push(new Uint8Array(this.#bytes(this.#u8())));
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        return push(new Uint8Array(this.#bytes(this.#u64())));

      // ---- containers ----
      case 0x29: // EMPTY_TUPLE
        return push([]);
      case 0x85: // TUPLE1
        return push(this.#popN(1));
      case 0x86: // TUPLE2
        return push(this.#popN(2));
      case 0x87: // TUPLE3
        return push(this.#popN(3));
      case 0x74: // TUPLE
        return push(this.#popMark());
      case 0x5d: // EMPTY_LIST
        return push([]);
      case 0x6c: // LIST
        return push(this.#popMark());
      case 0x61: { // APPEND
        const item = this.#pop();
        this.#listTarget().push(item);
        return;
      }
      case 0x65: { // APPENDS
        const items = this.#popMark();
        this.#listTarget().push(...items);
        return;
      }
      case 0x7d: // EMPTY_DICT
        return push(new Map());
      case 0x64: // DICT
        return push(this.#pairsInto(new Map(), this.#popMark()));
      case 0x73: { // SETITEM
        const value = this.#pop();
        const key = this.#pop();
        this.#dictTarget().set(key, value);
        return;
      }
      case 0x75: { // SETITEMS
        const items = this.#popMark();
        this.#pairsInto(this.#dictTarget(), items);
        return;
      }
      case 0x8f: // EMPTY_SET
        return push(new Set());
      case 0x90: { // ADDITEMS
        const items = this.#popMark();
        const target = this.#top();
        if (!(target instanceof Set)) throw new PickleError(`ADDITEMS on ${describe(target)}`);
        for (const item of items) target.add(item);
        return;
      }
      case 0x91: // FROZENSET
        return push(new Set(this.#popMark()));

      // ---- classes, calls and objects ----
      case 0x63: { // GLOBAL
        const module = this.#line();
        const name = this.#line();
        return push(new PyGlobal(MODULE_ALIASES[module] ?? module, name));
      }
      case 0x93: { // STACK_GLOBAL
        const name = this.#pop();
        const module = this.#pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new PickleError('STACK_GLOBAL without two strings');
        return push(new PyGlobal(MODULE_ALIASES[module] ?? module, name));
      }
      case 0x52: { // REDUCE
        const args = this.#pop();
        const callable = this.#pop();
        return push(this.#call(callable, args));
      }
      case 0x81: { // NEWOBJ
        const args = this.#pop();
        const cls = this.#pop();
        return push(this.#call(cls, args));
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = this.#pop();
        const args = this.#pop();
        const cls = this.#pop();
        if (!(kwargs instanceof Map) || kwargs.size) throw new PickleError('NEWOBJ_EX with keyword arguments is not supported');
        return push(this.#call(cls, args));
      }
      case 0x62: { // BUILD
        const state = this.#pop();
        this.#build(this.#top(), state);
        return;
      }
      case 0x51: // BINPERSID
        return push(this.#persistentLoad(this.#pop()));
      case 0x50: // PERSID (text)
        return push(this.#persistentLoad(this.#line()));
    }
    const name = String.fromCharCode(opcode);
    throw new PickleError(`unsupported pickle opcode 0x${opcode.toString(16)}${/[ -~]/.test(name) ? ` ('${name}')` : ''}`);
  }

  #call(callable: unknown, args: unknown): unknown {
    if (!(callable instanceof PyGlobal)) throw new PickleError(`call of ${describe(callable)}, which is not a class or function`);
    if (!Array.isArray(args)) throw new PickleError(`call of ${callable.path} with ${describe(args)} instead of an argument tuple`);
    const built = this.#hooks.construct?.(callable.path, args);
    if (built !== undefined) return built;
    return constructBuiltin(callable.path, args) ?? new PyObject(callable.path, args);
  }

  #build(target: unknown, state: unknown): void {
    if (target instanceof PyObject) {
      // Objects with __slots__ get (dict, slots); both hold attributes.
      if (Array.isArray(state) && state.length === 2 && (state[0] instanceof Map || state[0] === null) && state[1] instanceof Map) {
        target.state = new Map([...(state[0] ?? new Map()), ...state[1]]);
      } else {
        target.state = state;
      }
      return;
    }
    if (state === null || (state instanceof Map && state.size === 0)) return;
    throw new PickleError(`BUILD with state on ${describe(target)}`);
  }

  #persistentLoad(pid: unknown): unknown {
    if (!this.#hooks.persistentLoad) throw new PickleError('persistent id found but no persistent loader given');
    return this.#hooks.persistentLoad(pid);
  }

  #pairsInto(target: Map<unknown, unknown>, items: unknown[]): Map<unknown, unknown> {
    if (items.length % 2) throw new PickleError('odd number of items for a dict');
    for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
    return target;
  }

  #listTarget(): unknown[] {
    const target = this.#top();
    if (!Array.isArray(target)) throw new PickleError(`APPEND to ${describe(target)}`);
    return target;
  }

  #dictTarget(): Map<unknown, unknown> {
    const target = this.#top();
    if (!(target instanceof Map)) throw new PickleError(`SETITEM on ${describe(target)}`);
    return target;
  }

  // ---- stack ----
  #pop(): unknown {
    const floor = this.#marks.length ? this.#marks[this.#marks.length - 1]! : 0;
    if (this.#stack.length <= floor) throw new PickleError('stack underflow');
    return this.#stack.pop();
  }
  #top(): unknown {
    const floor = this.#marks.length ? this.#marks[this.#marks.length - 1]! : 0;
    if (this.#stack.length <= floor) throw new PickleError('stack underflow');
    return this.#stack[this.#stack.length - 1];
  }
  #popN(n: number): unknown[] {
    const items = new Array<unknown>(n);
    for (let i = n - 1; i >= 0; i--) items[i] = this.#pop();
    return items;
  }
  #popMark(): unknown[] {
    const mark = this.#marks.pop();
    if (mark === undefined) throw new PickleError('no MARK on the stack');
    return this.#stack.splice(mark);
  }
  #memoGet(index: number): unknown {
    if (!this.#memo.has(index)) throw new PickleError(`memo entry ${index} read before it was written`);
    return this.#memo.get(index);
  }

  // ---- input ----
  #advance(n: number): number {
    const at = this.#pos;
    if (n < 0 || at + n > this.#data.length) {
      throw new PickleError(`unexpected end of pickle data (needed ${n} bytes at byte ${at} of ${this.#data.length})`);
    }
    this.#pos += n;
    return at;
  }
  #bytes(n: number): Uint8Array {
    const at = this.#advance(n);
    return this.#data.subarray(at, at + n);
  }
  #u8(): number {
    return this.#data[this.#advance(1)]!;
  }
  #u16(): number {
    return this.#view.getUint16(this.#advance(2), true);
  }
  #i32(): number {
    return this.#view.getInt32(this.#advance(4), true);
  }
  #u32(): number {
    return this.#view.getUint32(this.#advance(4), true);
  }
  #u64(): number {
    const value = this.#view.getBigUint64(this.#advance(8), true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new PickleError(`length ${value} is too large`);
    return Number(value);
  }
  #text(length: number): string {
    const bytes = this.#bytes(length);
    try {
      return this.#utf8.decode(bytes);
    } catch {
      throw new PickleError(`string of ${length} bytes is not valid UTF-8`);
    }
  }
  #line(): string {
    const end = this.#data.indexOf(0x0a, this.#pos);
    if (end < 0) throw new PickleError('unterminated text argument');
    const text = new TextDecoder('latin1').decode(this.#data.subarray(this.#pos, end));
    this.#pos = end + 1;
    return text;
  }
  #decimalLine(): number {
    const text = this.#line();
    if (!/^\d+$/.test(text)) throw new PickleError(`expected a memo index but found '${text}'`);
    return Number(text);
  }
  /** A little-endian two's-complement integer of n bytes. */
  #long(n: number): number | bigint {
    const bytes = this.#bytes(n);
    let value = 0n;
    for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
    if (n > 0 && bytes[n - 1]! & 0x80) value -= 1n << BigInt(8 * n);
    return narrow(value);
  }
  #integer(text: string): number | bigint {
    if (!/^[+-]?\d+$/.test(text)) throw new PickleError(`expected an integer but found '${text}'`);
    return narrow(BigInt(text));
  }
}

function narrow(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** The standard-library calls that plain data pickles make. */
function constructBuiltin(path: string, args: readonly unknown[]): unknown {
  switch (path) {
    case 'collections.OrderedDict':
    case 'builtins.dict': {
      const map = new Map<unknown, unknown>();
      const source = args[0];
      if (source instanceof Map) for (const [k, v] of source) map.set(k, v);
      else if (Array.isArray(source)) for (const pair of source) map.set((pair as unknown[])[0], (pair as unknown[])[1]);
      return map;
    }
    case 'builtins.set':
    case 'builtins.frozenset':
      return new Set(Array.isArray(args[0]) ? args[0] : []);
    case 'builtins.list':
    case 'builtins.tuple':
      return Array.isArray(args[0]) ? [...args[0]] : [];
    case '_codecs.encode': {
      // Protocol 2 writes Python 3 bytes as _codecs.encode(text, 'latin1').
      const [text, encoding] = args;
      if (typeof text === 'string' && (encoding === 'latin1' || encoding === 'latin-1')) {
        return Uint8Array.from(text, (c) => c.charCodeAt(0));
      }
      return undefined;
    }
    case 'copyreg._reconstructor': {
      // Protocol 0/1 objects: _reconstructor(cls, object, None) creates a bare instance that BUILD then fills.
      const cls = args[0];
      return cls instanceof PyGlobal ? new PyObject(cls.path, []) : undefined;
    }
    default:
      return undefined;
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'None';
  if (value instanceof PyObject) return `a ${value.className} object`;
  if (value instanceof PyGlobal) return `the global ${value.path}`;
  if (value instanceof Map) return 'a dict';
  if (value instanceof Set) return 'a set';
  if (Array.isArray(value)) return 'a list or tuple';
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'JS'} value`;
  return `a ${typeof value}`;
}
