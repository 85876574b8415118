// Draws a scene as SVG (rasterised by sharp/librsvg). Shapes are filled with the even-odd rule, like the
// point-in-shape test in shapes.ts, so what is drawn is exactly what the occlusion check measured.
import { hex, type Rgb } from './colour.js';
import type { Background, Clutter, Paint, Scene } from './scene.js';
import type { Outline, Point } from './shapes.js';

const n = (v: number): string => v.toFixed(2);

function pathOf(outline: Outline): string {
  return outline.map((ring) => `M${ring.map((p) => `${n(p.x)} ${n(p.y)}`).join('L')}Z`).join('');
}

/** A smooth closed curve through the points (Catmull-Rom turned into cubic Béziers). */
function smoothClosedPath(points: readonly Point[]): string {
  const at = (i: number): Point => points[(i + points.length) % points.length]!;
  let d = `M${n(at(0).x)} ${n(at(0).y)}`;
  for (let i = 0; i < points.length; i++) {
    const [p0, p1, p2, p3] = [at(i - 1), at(i), at(i + 1), at(i + 2)];
    const c1 = { x: p1.x + (p2.x - p0.x) / 6, y: p1.y + (p2.y - p0.y) / 6 };
    const c2 = { x: p2.x - (p3.x - p1.x) / 6, y: p2.y - (p3.y - p1.y) / 6 };
    d += `C${n(c1.x)} ${n(c1.y)} ${n(c2.x)} ${n(c2.y)} ${n(p2.x)} ${n(p2.y)}`;
  }
  return `${d}Z`;
}

function linearGradient(id: string, from: Rgb, to: Rgb, start: Point, end: Point): string {
  return (
    `<linearGradient id="${id}" gradientUnits="userSpaceOnUse" x1="${n(start.x)}" y1="${n(start.y)}" x2="${n(end.x)}" y2="${n(end.y)}">` +
    `<stop offset="0" stop-color="${hex(from)}"/><stop offset="1" stop-color="${hex(to)}"/></linearGradient>`
  );
}

/** Returns the definitions it needs and the element that paints the whole image. */
function background(bg: Background, size: number): { defs: string; body: string } {
  const full = (fill: string, extra = ''): string => `<rect width="${size}" height="${size}" fill="${fill}"${extra}/>`;
  switch (bg.kind) {
    case 'flat':
      return { defs: '', body: full(hex(bg.colour)) };
    case 'linear':
      return { defs: linearGradient('bg', bg.from, bg.to, bg.start, bg.end), body: full('url(#bg)') };
    case 'radial':
      return {
        defs:
          `<radialGradient id="bg" gradientUnits="userSpaceOnUse" cx="${n(bg.centre.x)}" cy="${n(bg.centre.y)}" r="${n(bg.radius)}">` +
          `<stop offset="0" stop-color="${hex(bg.inner)}"/><stop offset="1" stop-color="${hex(bg.outer)}"/></radialGradient>`,
        body: full('url(#bg)'),
      };
    case 'stripes': {
      const p = n(bg.period);
      return {
        defs:
          `<pattern id="bg" patternUnits="userSpaceOnUse" width="${p}" height="${p}" patternTransform="rotate(${n(bg.angle)})">` +
          `<rect width="${p}" height="${p}" fill="${hex(bg.a)}"/><rect width="${n(bg.period * bg.duty)}" height="${p}" fill="${hex(bg.b)}"/></pattern>`,
        body: full('url(#bg)'),
      };
    }
    case 'checkers': {
      const [c, c2] = [n(bg.cell), n(2 * bg.cell)];
      return {
        defs:
          `<pattern id="bg" patternUnits="userSpaceOnUse" width="${c2}" height="${c2}" patternTransform="rotate(${n(bg.angle)})">` +
          `<rect width="${c2}" height="${c2}" fill="${hex(bg.a)}"/><rect width="${c}" height="${c}" fill="${hex(bg.b)}"/>` +
          `<rect x="${c}" y="${c}" width="${c}" height="${c}" fill="${hex(bg.b)}"/></pattern>`,
        body: full('url(#bg)'),
      };
    }
    case 'noise':
      // Turbulence → alpha mask (contrast-stretched) → the tint colour flooded through it.
      return {
        defs:
          `<filter id="bg" x="0" y="0" width="${size}" height="${size}" filterUnits="userSpaceOnUse">` +
          `<feTurbulence type="fractalNoise" baseFrequency="${bg.frequency.toFixed(4)}" numOctaves="${bg.octaves}" seed="${bg.seed}" result="t"/>` +
          `<feColorMatrix in="t" type="matrix" values="0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2.5 0 0 0 -0.75" result="m"/>` +
          `<feFlood flood-color="${hex(bg.tint)}"/><feComposite in2="m" operator="in"/></filter>`,
        body: full(hex(bg.base)) + full('#000', ' filter="url(#bg)"'),
      };
  }
}

function clutter(c: Clutter): string {
  switch (c.kind) {
    case 'line':
      return (
        `<polyline points="${c.points.map((p) => `${n(p.x)},${n(p.y)}`).join(' ')}" fill="none" stroke="${hex(c.colour)}" ` +
        `stroke-width="${n(c.width)}" stroke-opacity="${n(c.opacity)}" stroke-linecap="round" stroke-linejoin="round"/>`
      );
    case 'dot':
      return `<circle cx="${n(c.centre.x)}" cy="${n(c.centre.y)}" r="${n(c.radius)}" fill="${hex(c.colour)}"/>`;
    case 'blob':
      return `<path d="${smoothClosedPath(c.points)}" fill="${hex(c.colour)}" fill-opacity="${n(c.opacity)}"/>`;
  }
}

function paintFill(paint: Paint, id: string): { defs: string; fill: string } {
  if (paint.kind === 'solid') return { defs: '', fill: hex(paint.colour) };
  return { defs: linearGradient(id, paint.from, paint.to, paint.start, paint.end), fill: `url(#${id})` };
}

export function sceneToSvg(scene: Scene): string {
  const bg = background(scene.background, scene.size);
  const defs = [bg.defs];
  const objects = scene.objects.map((o, i) => {
    const { defs: d, fill } = paintFill(o.paint, `o${i}`);
    defs.push(d);
    return `<path d="${pathOf(o.outline)}" fill="${fill}" fill-rule="evenodd"/>`;
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.size}" height="${scene.size}" viewBox="0 0 ${scene.size} ${scene.size}">` +
    `<defs>${defs.join('')}</defs>${bg.body}${scene.below.map(clutter).join('')}${objects.join('')}${scene.above.map(clutter).join('')}</svg>`
  );
}
