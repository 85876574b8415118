// Resize with OpenCV's sampling rules (INTER_LINEAR, INTER_AREA), pad, and write either 8-bit RGB (HWC) or the
// network's float input (CHW, /255), in one pass over the pixels. It reproduces src/data/resize.ts bit for bit -- the
// same sample positions and float32 weights, the same double-precision sums in the same order -- so that the addon
// and the JS path it replaces (still the fallback where the addon is not built) give the same pixels.
//
// Every loop over pixels is a plain loop over arrays indexed by the pixel (taps stored tap by tap, rows as channel
// planes), so that the compiler vectorises it; no pixel takes a branch of its own.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace yi {

// For each output index along one axis, the source indices it reads and their weights, stored tap by tap: tap k of
// output i is at [k * outputs + i]. Outputs with fewer taps than `width` are padded with weight 0, which adds exactly
// +0 to a non-negative sum and keeps the horizontal pass the same for every pixel.
struct Taps {
  int outputs = 0;
  int width = 1;
  // Two taps at most, the second (if any) on the next source pixel: true whenever width is 2, as both kinds of taps
  // read consecutive source pixels.
  bool pairs = false;
  std::vector<int> count;     // real taps per output
  std::vector<int> index;
  std::vector<float> weight;  // float32, as the JS path stores them
};

class TapBuilder {
 public:
  void add(double source, double weight) {
    index_.push_back(static_cast<int>(source));
    weight_.push_back(static_cast<float>(weight));
  }
  void endOutput() { start_.push_back(static_cast<int>(index_.size())); }

  Taps build() const {
    Taps taps;
    taps.outputs = static_cast<int>(start_.size()) - 1;
    const size_t n = taps.outputs;
    for (size_t i = 0; i < n; ++i) taps.width = std::max(taps.width, start_[i + 1] - start_[i]);
    taps.pairs = taps.width == 2;
    taps.count.resize(n);
    taps.index.assign(n * taps.width, 0);
    taps.weight.assign(n * taps.width, 0.0f);
    for (size_t i = 0; i < n; ++i) {
      const int first = start_[i];
      const int real = start_[i + 1] - first;
      taps.count[i] = real;
      for (int k = 0; k < taps.width; ++k) {
        // Padding repeats the last source index, so it reads a pixel that exists.
        taps.index[k * n + i] = real == 0 ? 0 : index_[first + std::min(k, real - 1)];
        if (k < real) taps.weight[k * n + i] = weight_[first + k];
      }
    }
    return taps;
  }

 private:
  std::vector<int> start_{0};
  std::vector<int> index_;
  std::vector<float> weight_;
};

// Bilinear with half-pixel centres, edges clamped (OpenCV INTER_LINEAR): resize.ts linearTaps.
inline Taps linearTaps(int src, int dst) {
  const double scale = static_cast<double>(src) / dst;
  TapBuilder taps;
  for (int d = 0; d < dst; ++d) {
    const double f = (d + 0.5) * scale - 0.5;
    double s = std::floor(f);
    double frac = f - s;
    if (s < 0) {
      s = 0;
      frac = 0;
    }
    if (s >= src - 1) {
      s = src - 1;
      frac = 0;
    }
    if (frac == 0) {
      taps.add(s, 1);
    } else {
      taps.add(s, 1 - frac);
      taps.add(s + 1, frac);
    }
    taps.endOutput();
  }
  return taps.build();
}

// Coverage-weighted averages of the source area each output covers (OpenCV INTER_AREA): resize.ts areaTaps.
inline Taps areaTaps(int src, int dst) {
  const double scale = static_cast<double>(src) / dst;
  TapBuilder taps;
  for (int d = 0; d < dst; ++d) {
    const double from = d * scale;
    const double to = from + scale;
    const double cell = std::min(scale, src - from);
    const double last = std::min(std::floor(to), static_cast<double>(src - 1));
    const double first = std::min(std::ceil(from), last);
    if (first - from > 1e-3) taps.add(first - 1, (first - from) / cell);
    for (double s = first; s < last; ++s) taps.add(s, 1 / cell);
    if (to - last > 1e-3) taps.add(last, std::min(std::min(to - last, 1.0), cell) / cell);
    taps.endOutput();
  }
  return taps.build();
}

struct Image {
  const uint8_t* data;
  int width;
  int height;
};

// Where the resized image goes in the output, and the value of the border around it.
struct Placement {
  int width;
  int height;
  int left;
  int top;
  uint8_t pad;
};

// Three channel planes of one row, reused from row to row.
class Planes {
 public:
  explicit Planes(int width) : width_(width), values_(3 * static_cast<size_t>(width)) {}
  float* operator[](int c) { return values_.data() + c * static_cast<size_t>(width_); }
  float* data() { return values_.data(); }
  size_t size() const { return values_.size(); }

 private:
  int width_;
  std::vector<float> values_;
};

// Interleaved 8-bit RGB to float planes.
inline void widen(const uint8_t* row, int width, Planes& out) {
  float* r = out[0];
  float* g = out[1];
  float* b = out[2];
  for (int x = 0; x < width; ++x) {
    r[x] = row[3 * x];
    g[x] = row[3 * x + 1];
    b[x] = row[3 * x + 2];
  }
}

// A float sum to 8 bits as a Uint8ClampedArray stores it (the JS path's last step): round half to even, at most 255
// (sums are never negative: weights and pixels are not). Adding and subtracting 1.5 * 2^23 rounds in the default
// rounding mode, which is exactly that.
inline float wholeValue(float v) {
  constexpr float kRound = 12582912.0f;
  return (std::min(v, 255.0f) + kRound) - kRound;
}

// 8-bit RGB rows (HWC) into an output whose border is `pad`.
class RgbSink {
 public:
  RgbSink(uint8_t* out, const Placement& at, int width, int height) : out_(out), at_(at), width_(width) {
    const size_t rowBytes = static_cast<size_t>(at.width) * 3;
    std::memset(out, at.pad, at.top * rowBytes);
    const size_t below = static_cast<size_t>(at.top) + height;
    std::memset(out + below * rowBytes, at.pad, (at.height - below) * rowBytes);
  }

  void row(int y, Planes& rgb) {
    uint8_t* line = out_ + (static_cast<size_t>(at_.top) + y) * at_.width * 3;
    std::memset(line, at_.pad, static_cast<size_t>(at_.left) * 3);
    uint8_t* o = line + static_cast<size_t>(at_.left) * 3;
    const float* r = rgb[0];
    const float* g = rgb[1];
    const float* b = rgb[2];
    for (int x = 0; x < width_; ++x) {
      o[3 * x] = static_cast<uint8_t>(r[x]);
      o[3 * x + 1] = static_cast<uint8_t>(g[x]);
      o[3 * x + 2] = static_cast<uint8_t>(b[x]);
    }
    std::memset(o + static_cast<size_t>(width_) * 3, at_.pad, static_cast<size_t>(at_.width - at_.left - width_) * 3);
  }

 private:
  uint8_t* out_;
  Placement at_;
  int width_;
};

// The network input: three float planes (CHW) of value / 255, border included.
class PlaneSink {
 public:
  PlaneSink(float* out, const Placement& at, int width, int height)
      : out_(out), at_(at), width_(width), plane_(static_cast<size_t>(at.width) * at.height), pad_(at.pad / 255.0f) {
    const size_t below = static_cast<size_t>(at.top) + height;
    for (int c = 0; c < 3; ++c) {
      float* p = out + c * plane_;
      std::fill(p, p + static_cast<size_t>(at.top) * at.width, pad_);
      std::fill(p + below * at.width, p + plane_, pad_);
    }
  }

  void row(int y, Planes& rgb) {
    for (int c = 0; c < 3; ++c) {
      float* line = out_ + c * plane_ + (static_cast<size_t>(at_.top) + y) * at_.width;
      std::fill(line, line + at_.left, pad_);
      float* o = line + at_.left;
      const float* v = rgb[c];
      // The JS path divides the 8-bit value in double precision and stores a float32; for the 256 possible values
      // that is the correctly rounded float quotient, which this is.
      for (int x = 0; x < width_; ++x) o[x] = v[x] / 255.0f;
      std::fill(o + width_, line + at_.width, pad_);
    }
  }

 private:
  float* out_;
  Placement at_;
  int width_;
  size_t plane_;
  float pad_;
};

template <class Sink>
void copied(const Image& src, Sink& sink) {
  Planes rgb(src.width);
  for (int y = 0; y < src.height; ++y) {
    widen(src.data + static_cast<size_t>(y) * src.width * 3, src.width, rgb);
    sink.row(y, rgb);
  }
}

// An exact 2x INTER_AREA shrink takes OpenCV's integer path, which rounds halves up: resize.ts halve.
template <class Sink>
void halved(const Image& src, Sink& sink) {
  const int width = src.width / 2;
  const size_t stride = static_cast<size_t>(src.width) * 3;
  Planes rgb(width);
  for (int y = 0; y < src.height / 2; ++y) {
    const uint8_t* top = src.data + 2 * y * stride;
    const uint8_t* bottom = top + stride;
    for (int c = 0; c < 3; ++c) {
      float* o = rgb[c];
      for (int x = 0; x < width; ++x) {
        const int i = 6 * x + c;
        o[x] = static_cast<float>((top[i] + top[i + 3] + bottom[i] + bottom[i + 3] + 2) >> 2);
      }
    }
    sink.row(y, rgb);
  }
}

// 4 bytes from any address: a source pixel's three channels and one spare byte (see `resampled` for why this never
// reads outside the image). A packed struct rather than memcpy: GCC does not vectorise loops that read through memcpy.
struct __attribute__((packed)) Unaligned32 {
  uint32_t value;
};
inline uint32_t load4(const uint8_t* p) { return reinterpret_cast<const Unaligned32*>(p)->value; }
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "pixel loads take the first byte as the lowest");

inline double channel(uint32_t pixel, int c) { return static_cast<double>(static_cast<int>((pixel >> (8 * c)) & 0xff)); }

// One source row to the output width (resize.ts horizontal pass): per output a double-precision sum over its taps
// in order, stored as float32 planes. Two taps per output (INTER_LINEAR's) are neighbouring pixels, read at one
// offset and summed in one go (0 + a is a for the non-negative products here); other tap counts are summed tap by
// tap over all outputs.
inline void horizontal(const uint8_t* __restrict row, const Taps& xs, const std::vector<int>& offsets, std::vector<double>& sums, Planes& out) {
  const int n = xs.outputs;
  float* __restrict r = out[0];
  float* __restrict g = out[1];
  float* __restrict b = out[2];
  if (xs.pairs) {
    const float* w0 = xs.weight.data();
    const float* w1 = w0 + n;
    for (int x = 0; x < n; ++x) {
      const uint32_t p = load4(row + offsets[x]);
      const uint32_t q = load4(row + offsets[x] + 3);
      r[x] = static_cast<float>(channel(p, 0) * w0[x] + channel(q, 0) * w1[x]);
      g[x] = static_cast<float>(channel(p, 1) * w0[x] + channel(q, 1) * w1[x]);
      b[x] = static_cast<float>(channel(p, 2) * w0[x] + channel(q, 2) * w1[x]);
    }
    return;
  }
  double* sr = sums.data();
  double* sg = sr + n;
  double* sb = sg + n;
  std::fill(sums.begin(), sums.end(), 0.0);
  for (int k = 0; k < xs.width; ++k) {
    const int* offset = offsets.data() + static_cast<size_t>(k) * n;
    const float* w = xs.weight.data() + static_cast<size_t>(k) * n;
    for (int x = 0; x < n; ++x) {
      const uint32_t p = load4(row + offset[x]);
      sr[x] += channel(p, 0) * w[x];
      sg[x] += channel(p, 1) * w[x];
      sb[x] += channel(p, 2) * w[x];
    }
  }
  for (int x = 0; x < n; ++x) {
    r[x] = static_cast<float>(sr[x]);
    g[x] = static_cast<float>(sg[x]);
    b[x] = static_cast<float>(sb[x]);
  }
}

// One tap of the vertical pass (resize.ts): sum += row * weight per pixel, in double precision rounded to float32 as
// the JS path's Float32Array sum is. The first tap assigns (0 + x is x for the non-negative x here); the last also
// rounds to whole values.
template <bool kFirst, bool kLast>
void accumulate(const float* __restrict row, double weight, float* __restrict sum, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float s = static_cast<float>(kFirst ? row[i] * weight : sum[i] + row[i] * weight);
    sum[i] = kLast ? wholeValue(s) : s;
  }
}

// Separable resampling: each needed source row is resized horizontally once (kept while the next output rows may
// read it again), and each output row sums its source rows tap by tap.
template <class Sink>
void resampled(const Image& src, int width, int height, bool area, Sink& sink) {
  const Taps xs = area && width < src.width ? areaTaps(src.width, width) : linearTaps(src.width, width);
  const Taps ys = area && height < src.height ? areaTaps(src.height, height) : linearTaps(src.height, height);
  std::vector<int> offsets(xs.index.size());
  for (size_t i = 0; i < offsets.size(); ++i) offsets[i] = 3 * xs.index[i];
  std::vector<double> sums(3 * static_cast<size_t>(width));
  // Loads read up to 4 bytes past a row's end (a pair's second pixel, by weight 0, at the last column; tap pairs mean
  // a row of 2 pixels or more): there the next row's first bytes, or for the last row a padded copy's.
  const size_t rowBytes = 3 * static_cast<size_t>(src.width);
  std::vector<uint8_t> lastRow(rowBytes + 4);
  std::memcpy(lastRow.data(), src.data + (src.height - 1) * rowBytes, rowBytes);

  // Consecutive output rows share at most their boundary rows (INTER_AREA) or both rows (INTER_LINEAR), and a row's
  // taps are consecutive source rows: a few slots keep every row that is read again.
  constexpr int kSlots = 4;
  std::vector<Planes> slots(kSlots, Planes(width));
  int slotRow[kSlots] = {-1, -1, -1, -1};
  Planes out(width);
  float* sum = out.data();
  const size_t n = out.size();

  for (int y = 0; y < height; ++y) {
    const int count = ys.count[y];  // at least 1: see linearTaps and areaTaps
    for (int k = 0; k < count; ++k) {
      const size_t t = static_cast<size_t>(k) * height + y;
      const int r = ys.index[t];
      Planes& row = slots[r % kSlots];
      if (slotRow[r % kSlots] != r) {
        horizontal(r + 1 < src.height ? src.data + r * rowBytes : lastRow.data(), xs, offsets, sums, row);
        slotRow[r % kSlots] = r;
      }
      const double w = ys.weight[t];
      if (count == 1) {
        accumulate<true, true>(row.data(), w, sum, n);
      } else if (k == 0) {
        accumulate<true, false>(row.data(), w, sum, n);
      } else if (k + 1 < count) {
        accumulate<false, false>(row.data(), w, sum, n);
      } else {
        accumulate<false, true>(row.data(), w, sum, n);
      }
    }
    sink.row(y, out);
  }
}

// resize.ts resizeImage: the same size is a copy, an exact 2x area shrink the integer path, the rest separable.
template <class Sink>
void resize(const Image& src, int width, int height, bool area, Sink& sink) {
  if (width == src.width && height == src.height) {
    copied(src, sink);
  } else if (area && src.width == 2 * width && src.height == 2 * height) {
    halved(src, sink);
  } else {
    resampled(src, width, height, area, sink);
  }
}

}  // namespace yi
