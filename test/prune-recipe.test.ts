// The recipe `yolov5 prune` chooses for what the user leaves open: the budget split into rounds and fine-tuning,
// λ from the dataset size, the checkpoint's optimizer and hyperparameters, distillation from a good teacher, the
// CPU's channel block — each with a reason — and given options winning over every choice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseRecipe, defaultEpochBudget, parentFeatureGain, roundPressure, roundsFor, ROUND_TRAVEL, SPARSITY_LR_SHARE, type RecipeFacts } from '../src/prune/recipe.js';
import { channelBlockOf } from '../src/infer/channel-block.js';
import { loadHyp } from '../src/train/hyp.js';

const hyp = loadHyp('hyp.scratch-low');
const highway: RecipeFacts = {
  criterion: 'gate',
  budgeted: true,
  trainImages: 1948,
  batchSize: 16,
  keepFraction: 0.5,
  trained: { optimizer: 'SGD', hyp, nominalBatch: 64, source: 'base.safetensors' },
  defaultHyp: hyp,
  originalMap50: 0.88,
  channelBlock: 16,
};

test('rounds keep at least 50% of the cost each; the budget splits into sparsity rounds and fine-tuning', () => {
  assert.equal(roundsFor(undefined), 1);
  assert.equal(roundsFor(0.75), 1);
  assert.equal(roundsFor(0.5), 1);
  assert.equal(roundsFor(0.35), 2);
  assert.equal(roundsFor(0.2), 3);
  const r = chooseRecipe({ epochs: 20 }, { ...highway, keepFraction: 0.35 });
  assert.deepEqual([r.rounds, r.epochsPerRound, r.finetuneEpochs], [2, 3, 14]);
  const twelve = chooseRecipe({ epochs: 12 }, highway);
  assert.deepEqual([twelve.rounds, twelve.epochsPerRound, twelve.finetuneEpochs], [1, 3, 9]);
  assert.equal(r.rounds * r.epochsPerRound + r.finetuneEpochs, 20);
  // A small budget still prunes in one round with one sparsity epoch; 0 is one-shot.
  const small = chooseRecipe({ epochs: 3 }, highway);
  assert.deepEqual([small.rounds, small.epochsPerRound, small.finetuneEpochs], [1, 1, 2]);
  const oneShot = chooseRecipe({ epochs: 0 }, highway);
  assert.deepEqual([oneShot.rounds, oneShot.epochsPerRound, oneShot.finetuneEpochs], [1, 0, 0]);
  assert.match(oneShot.reasons.join('\n'), /one-shot/);
  // One-shot gates are all 1: the Taylor estimate ranks instead (with a budget, and for the gate criterion only).
  assert.equal(oneShot.importance, 'taylor');
  assert.equal(chooseRecipe({ epochs: 20 }, highway).importance, 'magnitude');
  assert.equal(chooseRecipe({ epochs: 0 }, { ...highway, criterion: 'bn' }).importance, 'magnitude');
  assert.equal(chooseRecipe({ epochs: 0 }, { ...highway, budgeted: false }).importance, 'magnitude');
  // Without a budget: about 40,000 images seen, within 10–60 epochs.
  assert.equal(defaultEpochBudget(1948), 21);
  assert.equal(defaultEpochBudget(128), 60);
  assert.equal(defaultEpochBudget(100_000), 10);
});

test('SGD: λ moves an undefended gate by a set travel per round, so it falls as the dataset grows', () => {
  const r = chooseRecipe({ epochs: 20 }, highway);
  // The travel the choice is made for: lr · λ · images / (1 − momentum) per full-strength epoch.
  const travel = (r.gateLr * r.sparsity * highway.trainImages * roundPressure(r.epochsPerRound, r.hyp)) / (1 - r.hyp.momentum);
  assert.ok(Math.abs(travel - ROUND_TRAVEL) < 1e-9, `travel ${travel}`);
  const larger = chooseRecipe({ epochs: 20 }, { ...highway, trainImages: 10 * highway.trainImages });
  assert.ok(Math.abs(larger.sparsity * 10 - r.sparsity) < 1e-12);
  // BatchNorm scales (network slimming) learn at lr0, not at the gates' rate: λ scales up by their ratio.
  const bn = chooseRecipe({ epochs: 20 }, { ...highway, criterion: 'bn' });
  assert.ok(Math.abs(bn.sparsity / r.sparsity - r.gateLr / r.sparsityHyp.lr0) < 1e-9);
  // The first epoch's ramp counts half; later epochs follow the linear decay.
  assert.equal(roundPressure(1, { lrf: 0.01 }), 0.5);
  assert.ok(Math.abs(roundPressure(2, { lrf: 0.01 }) - (0.5 + 0.505)) < 1e-12);
});

test('the checkpoint\'s optimizer and hyperparameters, a short cool warmup, distillation from a good teacher', () => {
  const adamHyp = { ...hyp, lr0: 0.003, warmup_bias_lr: 0.1, warmup_epochs: 3 };
  const r = chooseRecipe({ epochs: 20 }, { ...highway, trained: { optimizer: 'AdamW', hyp: adamHyp, source: 'adam.safetensors' } });
  assert.equal(r.optimizer, 'AdamW');
  assert.equal(r.hyp.lr0, 0.003);
  assert.equal(r.hyp.warmup_epochs, 1);
  assert.equal(r.hyp.warmup_bias_lr, 0.003);
  // Sparsity training moves the weights at a tenth of lr0: they follow the gates without forgetting.
  assert.ok(Math.abs(r.sparsityHyp.lr0 - 0.003 * SPARSITY_LR_SHARE) < 1e-12);
  assert.ok(r.sparsityHyp.warmup_bias_lr <= r.sparsityHyp.lr0);
  assert.equal(r.sparsityHyp.momentum, adamHyp.momentum);
  // Under Adam a pressed gate moves about its learning rate per step: the round's travel over its steps.
  const steps = highway.trainImages / r.nominalBatch;
  assert.ok(Math.abs(r.gateLr * steps * roundPressure(r.epochsPerRound, r.hyp) - ROUND_TRAVEL) < 1e-9);
  assert.equal(r.distill, 3);
  assert.equal(chooseRecipe({ epochs: 20 }, { ...highway, originalMap50: 0.25 }).distill, 0);
  // Feature distillation from the model before the pruning step, which is as good as the original it came from.
  assert.equal(r.featureDistill, 2);
  assert.ok(r.reasons.some((line) => line.startsWith('feature distillation gain 2, falling to 0 over fine-tuning')));
  const weak = chooseRecipe({ epochs: 20 }, { ...highway, originalMap50: 0.25 });
  assert.equal(weak.featureDistill, 0);
  assert.ok(weak.reasons.some((line) => line.startsWith("no feature distillation: the original's mAP50 0.250 is below 0.5")));
  assert.equal(chooseRecipe({ epochs: 20, featureDistill: 0 }, highway).featureDistill, 0);
  // The parent must still be worth learning from when fine-tuning starts: a collapsed round's features mislead.
  assert.deepEqual(parentFeatureGain(r, 0.85), { gain: 2 });
  const collapsed = parentFeatureGain(r, 0.31);
  assert.equal(collapsed.gain, 0);
  assert.match(collapsed.reason ?? '', /^no feature distillation: the model pruned from has mAP50 0\.310, below 0\.5/);
  // A given gain is used as given, and a run recorded before the bar existed has none.
  assert.deepEqual(parentFeatureGain(chooseRecipe({ epochs: 20, featureDistill: 1 }, highway), 0.31), { gain: 1 });
  assert.deepEqual(parentFeatureGain({ featureDistill: 2 }, 0.31), { gain: 2 });
  // An official checkpoint says nothing: SGD and hyp.scratch-low.
  const { trained: _, ...official } = highway;
  const o = chooseRecipe({ epochs: 20 }, official);
  assert.equal(o.optimizer, 'SGD');
  assert.equal(o.hyp.lr0, hyp.lr0);
  assert.match(o.reasons.join('\n'), /does not say/);
});

test('a small dataset gets a smaller nominal batch; the channel block comes from the CPU', () => {
  const coco128 = chooseRecipe({ epochs: 20 }, { ...highway, trainImages: 128 });
  assert.equal(coco128.nominalBatch, 16);
  assert.equal(chooseRecipe({ epochs: 20 }, highway).nominalBatch, 64);
  assert.equal(chooseRecipe({ epochs: 20 }, highway).round, 16);
  assert.equal(channelBlockOf('processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw\n', 'x64'), 16);
  assert.equal(channelBlockOf('flags\t\t: fpu sse2 avx avx2 fma\n', 'x64'), 8);
  assert.equal(channelBlockOf('flags\t\t: fpu sse2\n', 'x64'), 1);
  assert.equal(channelBlockOf(undefined, 'arm64'), 8);
});

test('given options win, are reported as given, and a budget must add up with its parts', () => {
  const r = chooseRecipe({ epochs: 10, rounds: 2, epochsPerRound: 1, sparsity: 2e-3, gateLr: 0.1, distill: 0, round: 8, optimizer: 'Adam', nominalBatch: 32 }, highway);
  assert.deepEqual([r.rounds, r.epochsPerRound, r.finetuneEpochs, r.sparsity, r.gateLr, r.distill, r.round, r.optimizer, r.nominalBatch], [2, 1, 8, 2e-3, 0.1, 0, 8, 'Adam', 32]);
  assert.ok(r.reasons.filter((line) => line.endsWith('(given)')).length >= 8);
  assert.throws(() => chooseRecipe({ epochs: 10, rounds: 2, epochsPerRound: 2, finetuneEpochs: 2 }, highway), /--epochs 10 does not match/);
  const exact = chooseRecipe({ hyp: { ...hyp, warmup_epochs: 3 }, hypGiven: true }, highway);
  assert.equal(exact.hyp.warmup_epochs, 3);
  assert.deepEqual(exact.sparsityHyp, exact.hyp);
});

test('the fade is asked for, not chosen (measured worse on Highway); asked for, it must be possible', () => {
  const twelve = chooseRecipe({ epochs: 12 }, highway);
  assert.equal(twelve.fade, false);
  assert.match(twelve.reasons.join('\n'), /no fade: on Highway, channels faded out over a round's last 2 epochs left the model worse/);
  assert.doesNotMatch(chooseRecipe({ epochs: 12 }, { ...highway, criterion: 'bn' }).reasons.join('\n'), /fade/, 'no reason where it could not apply');
  const on = chooseRecipe({ epochs: 12, fade: true }, highway);
  assert.equal(on.fade, true);
  assert.match(on.reasons.join('\n'), /fade on \(given\)/);
  assert.throws(() => chooseRecipe({ epochs: 3, fade: true }, highway), /--fade needs .* at least 2 --epochs-per-round/);
  assert.throws(() => chooseRecipe({ epochs: 12, fade: true }, { ...highway, criterion: 'bn' }), /--fade needs --criterion gate/);
});
