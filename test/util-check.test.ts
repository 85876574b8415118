// The argument checks every part of the library shares: bounds, their exclusivity, what is not a number, and the
// one message format (`<name> must be <expectation>, got <value>`) with the one error class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fail, integer, number } from '../src/util/check.js';

/** Asserts `fn` throws a RangeError with exactly `message`. */
function refuses(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof RangeError, `a RangeError, not ${String(error)}`);
    assert.equal(error.message, message);
    return true;
  });
}

test('integer: returns the value within inclusive bounds, refuses just outside them', () => {
  assert.equal(integer('batch size', 1, { min: 1 }), 1);
  assert.equal(integer('pad', 0, { min: 0, max: 255 }), 0);
  assert.equal(integer('pad', 255, { min: 0, max: 255 }), 255);
  assert.equal(integer('seed', -7), -7);
  refuses(() => integer('batch size', 0, { min: 1 }), 'batch size must be a positive integer, got 0');
  refuses(() => integer('epoch', -1, { min: 0 }), 'epoch must be a non-negative integer, got -1');
  refuses(() => integer('--img', 16, { min: 32 }), '--img must be an integer ≥ 32, got 16');
  refuses(() => integer('pad', 256, { min: 0, max: 255 }), 'pad must be an integer from 0 to 255, got 256');
  refuses(() => integer('level', 5, { max: 4 }), 'level must be an integer ≤ 4, got 5');
});

test('integer: refuses fractions, NaN, infinities, unsafe integers and non-numbers', () => {
  refuses(() => integer('seed', 0.5), 'seed must be an integer, got 0.5');
  refuses(() => integer('workers', Number.NaN, { min: 1 }), 'workers must be a positive integer, got NaN');
  refuses(() => integer('workers', Infinity, { min: 1 }), 'workers must be a positive integer, got Infinity');
  refuses(() => integer('seed', 2 ** 53), 'seed must be an integer, got 9007199254740992');
  refuses(() => integer('workers', '4', { min: 1 }), 'workers must be a positive integer, got "4"');
  refuses(() => integer('workers', undefined, { min: 1 }), 'workers must be a positive integer, got undefined');
  refuses(() => integer('workers', null, { min: 1 }), 'workers must be a positive integer, got null');
  refuses(() => integer('workers', [4], { min: 1 }), 'workers must be a positive integer, got [4]');
  refuses(() => integer('workers', 4n, { min: 1 }), 'workers must be a positive integer, got 4n');
});

test('number: each bound inclusive unless marked exclusive, and the expectation says which', () => {
  assert.equal(number('--ratio', 0, { min: 0, max: 1, maxExclusive: true }), 0);
  refuses(() => number('--ratio', 1, { min: 0, max: 1, maxExclusive: true }), '--ratio must be a number from 0 to below 1, got 1');
  refuses(() => number('--ratio', 1.5, { min: 0, max: 1, maxExclusive: true }), '--ratio must be a number from 0 to below 1, got 1.5');
  assert.equal(number('fade cap', 1, { min: 0, max: 1 }), 1);
  refuses(() => number('fade cap', -0.1, { min: 0, max: 1 }), 'fade cap must be a number from 0 to 1, got -0.1');
  assert.equal(number('--target-flops', 1, { min: 0, minExclusive: true, max: 1 }), 1);
  refuses(() => number('--target-flops', 0, { min: 0, minExclusive: true, max: 1 }), '--target-flops must be a number above 0 and at most 1, got 0');
  refuses(() => number('share', 1, { min: 0, minExclusive: true, max: 1, maxExclusive: true }), 'share must be a number above 0 and below 1, got 1');
  assert.equal(number('λ', 0, { min: 0 }), 0);
  refuses(() => number('λ', -1, { min: 0 }), 'λ must be a number ≥ 0, got -1');
  refuses(() => number('crop gain', 0, { min: 0, minExclusive: true }), 'crop gain must be a positive number, got 0');
  refuses(() => number('offset', 1, { min: 1, minExclusive: true }), 'offset must be a number above 1, got 1');
  refuses(() => number('offset', 1, { max: 1, maxExclusive: true }), 'offset must be a number below 1, got 1');
  refuses(() => number('offset', 2, { max: 1 }), 'offset must be a number ≤ 1, got 2');
});

test('number: refuses NaN, infinities and non-numbers; takes fractions', () => {
  assert.equal(number('x', 0.25), 0.25);
  refuses(() => number('x', Number.NaN), 'x must be a number, got NaN');
  refuses(() => number('crop gain', Number.NaN, { min: 0, minExclusive: true }), 'crop gain must be a positive number, got NaN');
  refuses(() => number('λ', Infinity, { min: 0 }), 'λ must be a number ≥ 0, got Infinity');
  refuses(() => number('λ', -Infinity), 'λ must be a number, got -Infinity');
  refuses(() => number('λ', '0.5', { min: 0 }), 'λ must be a number ≥ 0, got "0.5"');
  refuses(() => number('λ', { value: 1 }, { min: 0 }), 'λ must be a number ≥ 0, got {"value":1}');
});

test('why is added to the expectation', () => {
  refuses(
    () => number('--target-sparsity', 0.6, { min: 0, minExclusive: true, max: 0.5, why: 'the penalty presses only the smaller half of each layer' }),
    '--target-sparsity must be a number above 0 and at most 0.5 (the penalty presses only the smaller half of each layer), got 0.6',
  );
  refuses(() => integer('class filter', 80, { min: 0, max: 79, why: 'a class index of this model' }), 'class filter must be an integer from 0 to 79 (a class index of this model), got 80');
});

test('fail: the same format and class for checks made elsewhere; values JSON has no word for still show', () => {
  refuses(() => fail('imgsz', 'a positive integer or [height, width]', [1, 2, 3]), 'imgsz must be a positive integer or [height, width], got [1,2,3]');
  const circular: { self?: unknown } = {};
  circular.self = circular;
  refuses(() => fail('options', 'a plain object', circular), 'options must be a plain object, got [object Object]');
  refuses(() => fail('key', 'a string', Symbol('k')), 'key must be a string, got Symbol(k)');
});
