// The implicit methods LIIF, A-LIIF and LMF (+ CMSR), defined normatively in docs/IMPLICIT.md:
// an EDSR-style encoder per input pixel (analysis), small MLPs per query (render), a bicubic
// base the networks add a residual to. The model is a safetensors file of float32 tensors
// plus model.json (architecture, CMSR tables).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lerf/methods.hpp"

namespace lerf {

class Backend;

// torch layout: weight[out][in] (Linear) or [out][in][3][3] (Conv2d), then bias[out].
struct DenseLayer {
  int in = 0, out = 0;
  std::vector<float> w, b;
};

struct CmsrTable {
  double scale = 0;  // target scale the table is for (its key)
  struct Level {
    double decode_scale = 1;
    double threshold = 0;
  };
  std::vector<Level> levels;  // decode scales ascending, all < scale
};

struct ImplicitModel {
  // model.json "architecture"
  int channels = 32, blocks = 4;
  int mlp_hidden = 64;                         // liif decoder, a-liif expansion
  int basis = 6, basis_hidden = 16;            // a-liif
  int latent_hidden = 128, render_layers = 4, render_hidden = 16;  // lmf

  DenseLayer head, tail;                 // convolutions (w: out * in * 9)
  std::vector<DenseLayer> conv1, conv2;  // per residual block
  // liif: dec.layers.0..3; a-liif: dec.expand.0..2; lmf: dec.latent.0..1
  std::vector<DenseLayer> mlp;
  // a-liif: dec.basis layer l, w: basis * out * in, b: basis * out
  std::vector<DenseLayer> basis_layers;
  // lmf: dec.render.0..render_layers
  std::vector<DenseLayer> render;

  double cmsr_mse_target = 0;
  std::vector<CmsrTable> cmsr;  // keys ascending

  int unfold_dim() const { return 9 * channels; }
  int query_dim() const { return 9 * channels + 4; }  // liif / a-liif decoder input
  int latent_dim() const { return (2 * render_layers + 1) * render_hidden; }  // lmf latent output
  // The CMSR table for target scale s (the largest key <= s), or null.
  const CmsrTable* cmsr_table(double s) const;
};

// Nominal multiply-adds (as the papers count them: every weight of every layer once per
// evaluation, the 4 ensemble corners included), and what the CPU fast path does instead.
struct ImplicitCost {
  double encoder_per_input = 0;     // encoder per input pixel
  double latent_per_input = 0;      // lmf latent MLP per input pixel
  double decoder_per_output = 0;    // nominal decoder per output pixel (4 corners)
  double precomputed_per_input = 0; // fast path: query-independent first-layer term per input pixel
  double decoder_per_output_fast = 0;  // fast path per output pixel once that term is precomputed
};
ImplicitCost implicit_cost(Method method, const ImplicitModel& model);

// Peak bytes of the CPU analysis of a plane of `channels` channels: the per-pixel field every
// channel keeps (fast path: the first-layer terms, or LMF's latent; reference: the encoder
// features) plus one channel's encoder buffers. An upper bound, used to refuse inputs that
// would not fit (ImplicitCpu::analyse) with a clear error instead of running out of memory.
std::size_t implicit_analysis_bytes(Method method, const ImplicitModel& model, int width, int height, int channels,
                                    bool fast_path);

// True when `dir` holds an implicit model (model.safetensors).
bool has_implicit_files(const std::filesystem::path& dir);
struct Model;
// Loads model.json + model.safetensors of liif / a-liif / lmf: the architecture validated,
// every tensor required with its shape, CMSR tables (lmf). Throws lerf::Error naming the file
// and the problem.
Model load_implicit_model(Method method, const std::filesystem::path& dir);

// What the last implicit render of a CPU backend did (CMSR statistics).
struct ImplicitRenderStats {
  long long output_pixels = 0;   // pixels of the output
  long long rendered_full = 0;   // rendered by the network at full scale
  long long rendered_coarse = 0; // coarse-image pixels rendered for CMSR
  long long skipped = 0;         // output pixels taken from coarse images
  bool cmsr = false;             // a CMSR table applied
  long long classical_pixels = 0;  // warps: samples where the warp minifies (classical bicubic)
  bool classical = false;        // downscaling: rendered with classical bicubic
  // Fraction of the full-scale render work saved: 1 - (full + coarse) / output pixels.
  double saved_fraction() const {
    return output_pixels ? 1.0 - double(rendered_full + rendered_coarse) / double(output_pixels) : 0.0;
  }
};
// Null unless `backend` is a CPU backend running an implicit method that has rendered.
const ImplicitRenderStats* implicit_render_stats(const Backend& backend);

}  // namespace lerf
