// Draws the Teams app icons (manifest/color.png, manifest/outline.png) from shapes, so they can be
// redrawn at will: `npx tsx scripts/drawIcons.ts`. The PNGs are committed; the package script
// only copies them.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';

type Rgb = readonly [number, number, number];
/** A layer: a colour and whether a point (in icon units, origin at the centre) is inside it. */
type Layer = { color: Rgb; inside: (x: number, y: number) => boolean };

const WHITE: Rgb = [255, 255, 255];
/** Dynamics 365 blue; also the manifest's accentColor. */
export const BRAND_BLUE: Rgb = [0x0b, 0x53, 0xce];
const BRAND_CYAN: Rgb = [0x50, 0xe6, 0xff];

/**
 * Renders layers (last on top) into a size x size RGBA PNG. Each pixel averages ss x ss samples,
 * which anti-aliases every edge; `units` is the width of the icon in layer coordinates.
 */
export function render(size: number, units: number, layers: Layer[], ss = 8): PNG {
  const png = new PNG({ width: size, height: size });
  const scale = units / size;
  for (let py = 0; py < size; py++)
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < ss; sy++)
        for (let sx = 0; sx < ss; sx++) {
          const x = (px + (sx + 0.5) / ss) * scale - units / 2;
          const y = (py + (sy + 0.5) / ss) * scale - units / 2;
          const top = layers.findLast((l) => l.inside(x, y));
          if (!top) continue;
          r += top.color[0];
          g += top.color[1];
          b += top.color[2];
          a += 1;
        }
      const i = (py * size + px) * 4;
      // Colour is averaged over covered samples only (un-premultiplied), alpha is the coverage.
      png.data[i] = a ? Math.round(r / a) : 255;
      png.data[i + 1] = a ? Math.round(g / a) : 255;
      png.data[i + 2] = a ? Math.round(b / a) : 255;
      png.data[i + 3] = Math.round((a / (ss * ss)) * 255);
    }
  return png;
}

const ring = (inner: number, outer: number) => (x: number, y: number) => {
  const d = Math.hypot(x, y);
  return d >= inner && d <= outer;
};
/** The four diagonal bands of a lifebuoy: points within halfWidth of either diagonal. */
const diagonals = (halfWidth: number) => (x: number, y: number) =>
  Math.abs(x - y) / Math.SQRT2 <= halfWidth || Math.abs(x + y) / Math.SQRT2 <= halfWidth;
const both =
  (...fs: Array<(x: number, y: number) => boolean>) =>
  (x: number, y: number) =>
    fs.every((f) => f(x, y));
const square = (half: number) => (x: number, y: number) => Math.abs(x) <= half && Math.abs(y) <= half;

/** Distance from a point to a polyline, for stroking the pulse line. */
function distanceToPolyline(x: number, y: number, points: ReadonlyArray<readonly [number, number]>) {
  let best = Infinity;
  for (let i = 1; i < points.length; i++) {
    const [ax, ay] = points[i - 1]!;
    const [bx, by] = points[i]!;
    const dx = bx - ax;
    const dy = by - ay;
    const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
    best = Math.min(best, Math.hypot(x - (ax + t * dx), y - (ay + t * dy)));
  }
  return best;
}

/**
 * 192x192 colour icon: a lifebuoy (support) with a heartbeat (service health) on a solid brand
 * background. Teams crops the colour icon to its own rounded shape, so the background fills the
 * square and the symbol keeps to the middle ~110 px as the Teams icon guidance asks.
 */
export function drawColor(): PNG {
  const pulse: Array<[number, number]> = [
    [-27, 2],
    [-13, 2],
    [-7, -12],
    [1, 16],
    [8, -6],
    [12, 2],
    [27, 2],
  ];
  return render(192, 192, [
    { color: BRAND_BLUE, inside: square(96) },
    { color: WHITE, inside: ring(35, 56) },
    { color: BRAND_CYAN, inside: both(ring(35, 56), diagonals(8)) },
    { color: WHITE, inside: (x, y) => distanceToPolyline(x, y, pulse) <= 3.2 },
  ]);
}

/**
 * 32x32 outline icon: the same lifebuoy in white on transparent, as Teams requires (it tints the
 * outline icon itself). Drawn as two circles and four filled bands so it reads at 32 px.
 */
export function drawOutline(): PNG {
  return render(32, 32, [
    { color: WHITE, inside: ring(12.5, 14.5) },
    { color: WHITE, inside: ring(5.5, 7.5) },
    { color: WHITE, inside: both(ring(6, 14), diagonals(2.6)) },
  ]);
}

/** Writes both icons into manifest/. */
export function drawIcons(dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'manifest')) {
  writeFileSync(path.join(dir, 'color.png'), PNG.sync.write(drawColor()));
  writeFileSync(path.join(dir, 'outline.png'), PNG.sync.write(drawOutline()));
  return dir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.stdout.write(`icons written to ${drawIcons()}\n`);
}
