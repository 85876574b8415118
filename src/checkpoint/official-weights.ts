// Official YOLOv5 weights by name, as ultralytics users expect: `--weights yolov5s.pt` that is not a local file is
// fetched once from the v7.0 release into the cache folder and checked by size and SHA-256 before it is used.
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cacheDir } from '../util/cache-dir.js';
import { downloadFile } from '../util/download.js';

export const OFFICIAL_RELEASE = 'v7.0';
const RELEASE_URL = `https://github.com/ultralytics/yolov5/releases/download/${OFFICIAL_RELEASE}`;

export interface OfficialAsset {
  size: number;
  sha256: string;
}

/**
 * The detection checkpoints of the v7.0 release, with their sizes and SHA-256. Every entry is checked by size and
 * full hash; none is checked by size only. Where the digests come from (the release page lists no digests):
 * yolov5n and yolov5s as given in the project's issue #15, which other projects that pin them confirm; yolov5x by
 * its prefix in the issue (9f27a794…) completed from those projects; yolov5m from several independent projects that
 * downloaded it from this release (42,806,829 bytes, 61d93336…; the beef2600… matches no source found);
 * yolov5l and the five P6 models from one project's table of this release's files, checked there by size and hash
 * (the yolov5l prefix c2323a42… disagrees with it and matches no source found). Should one of these be
 * wrong, its download fails with a hash mismatch and the message says where to put the file by hand.
 */
export const OFFICIAL_WEIGHTS: Readonly<Record<string, OfficialAsset>> = {
  'yolov5n.pt': { size: 4_062_133, sha256: '4f180cf23ba0717ada0badd6c685026d73d48f184d00fc159c2641284b2ac0a3' },
  'yolov5s.pt': { size: 14_808_437, sha256: '8b3b748c1e592ddd8868022e8732fde20025197328490623cc16c6f24d0782ee' },
  'yolov5m.pt': { size: 42_806_829, sha256: '61d933360ba5a7733a36764996c800287d973889d875227f5beedd2473a97a56' },
  'yolov5l.pt': { size: 93_622_629, sha256: '2f603b7354c25454d1270663a14d8ddc1eea98e5eebc1d84ce0c6e3150fa155f' },
  'yolov5x.pt': { size: 174_114_333, sha256: '9f27a794fa0308e2606f90565164571d6f0a0ba18a3ce2e5e5d323b71c157859' },
  'yolov5n6.pt': { size: 7_190_229, sha256: '496c05a2b991da15acc6c4408c63da287f2513a46c6756618776d4dd71170781' },
  'yolov5s6.pt': { size: 25_978_837, sha256: '95bda9019ada63f37338308d0c81a66047a6fbaba061abaff271ba9334cf2a6f' },
  'yolov5m6.pt': { size: 72_308_357, sha256: '7afe7fa0f29a8351467200a2a5a33c7996d1155ed6636c7edd8ca70b14951c64' },
  'yolov5l6.pt': { size: 154_521_589, sha256: 'b357b77f646b0190912985937c44e2923441369d5fda69ba86da2aa919212618' },
  'yolov5x6.pt': { size: 282_720_357, sha256: '257c991b216d625427dc4d9c7c76d6c6d93cf3732797538da34bdc02f97bfef0' },
};

/** Where release assets are fetched from: YOLOV5_TS_ASSETS_URL (a mirror, or a local server in tests), else GitHub. */
export function officialAssetsUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (env.YOLOV5_TS_ASSETS_URL || RELEASE_URL).replace(/\/+$/, '');
}

/** The cache path of an official checkpoint. */
export function cachedWeightsPath(name: string): string {
  return join(cacheDir(), 'weights', OFFICIAL_RELEASE, name);
}

/**
 * The file to load for `weights`: the path itself when it exists or is not an official name; otherwise (a bare
 * official name such as `yolov5s.pt` with no such file here) the cached copy, downloaded first if need be.
 * `assets` replaces the table of names (tests serve their own files).
 */
export async function resolveWeights(weights: string, assets: Readonly<Record<string, OfficialAsset>> = OFFICIAL_WEIGHTS): Promise<string> {
  const asset = Object.hasOwn(assets, weights) ? assets[weights] : undefined;
  if (existsSync(weights) || asset === undefined || basename(weights) !== weights) return weights;
  const dest = cachedWeightsPath(weights);
  // Only a verified download is ever renamed into the cache, so a size check suffices for a cached copy.
  if (existsSync(dest) && statSync(dest).size === asset.size) return dest;
  const url = `${officialAssetsUrl()}/${weights}`;
  await downloadFile({
    url,
    dest,
    size: asset.size,
    sha256: asset.sha256,
    manualHint: `Download it by hand (${url}) and put it at ${dest}, or pass the path of a local copy to --weights.`,
  });
  return dest;
}
