// The implicit methods' CPU fast path (docs/IMPLICIT.md), proven against the scalar
// reference in implicit.cpp by tests/test_implicit.cpp:
// - encoder convolutions as im2col of one row at a time x GEMM (memory: one row of 9C values
//   per thread, never the whole image);
// - the query-independent part of each decoder's first layer (W_U U(p) + b, LIIF / A-LIIF)
//   or LMF's whole latent MLP computed once per input pixel in the analysis: a query then
//   costs its [rel, cell] terms and the hidden layers;
// - decoders over blocks of queries x 4 corners as GEMMs (Eigen).
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>

#include "implicit_cpu.hpp"
#include "lerf/error.hpp"
#include "lerf/thread_pool.hpp"

namespace lerf::cpu {

namespace {

using Mat = Eigen::MatrixXf;  // column-major
using MatR = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vec = Eigen::VectorXf;
using RowVec = Eigen::RowVectorXf;

struct Conv {
  int cin = 0, cout = 0;
  Mat wt;  // (9 cin) x cout, row k * cin + ci (im2col order: contiguous channels per tap)
  RowVec b;
};

Conv make_conv(const DenseLayer& l) {
  Conv c{l.in, l.out, Mat(9 * l.in, l.out), RowVec(l.out)};
  for (int o = 0; o < l.out; ++o) {
    c.b[o] = l.b[o];
    for (int ci = 0; ci < l.in; ++ci)
      for (int k = 0; k < 9; ++k) c.wt(k * l.in + ci, o) = l.w[(static_cast<std::size_t>(o) * l.in + ci) * 9 + k];
  }
  return c;
}

// Columns [first, first + count) of a torch Linear weight as a (count x out)... as out x count.
Mat columns(const DenseLayer& l, int first, int count) {
  Mat w(l.out, count);
  for (int o = 0; o < l.out; ++o)
    for (int i = 0; i < count; ++i) w(o, i) = l.w[static_cast<std::size_t>(o) * l.in + first + i];
  return w;
}
Vec bias(const DenseLayer& l) { return Eigen::Map<const Vec>(l.b.data(), l.out); }

// The unfold part (first 9C inputs, order c * 9 + k) of a Linear as an im2col weight
// (row k * C + c), written into columns [col, col + out) of `dst`.
void unfold_weight(const DenseLayer& l, int C, Mat& dst, int col, const float* w, int out) {
  for (int o = 0; o < out; ++o)
    for (int c = 0; c < C; ++c)
      for (int k = 0; k < 9; ++k) dst(k * C + c, col + o) = w[static_cast<std::size_t>(o) * l.in + c * 9 + k];
}

}  // namespace

struct ImplicitFastNet {
  Method method;
  int C = 0, pdim = 0;
  Conv head, tail;
  std::vector<Conv> conv1, conv2;
  Mat pre_w;  // 9C x pdim
  RowVec pre_b;
  // LIIF: layer 0's [rel, cell] columns, then layers 1..3; A-LIIF: expansion likewise.
  Mat rc0, w1, w2;
  Vec b1, b2;
  // A-LIIF basis: first-layer [rel, cell] columns of every basis (K*B x 4), then the K bases
  // of layers 1..3 stacked (K*B x B, K*B x B, K x B) with their biases.
  int K = 0, B = 0;
  Mat basis_rc, stack[3];
  Vec stack_b[3];
  // LMF: latent MLP and render layers.
  int R = 0, L = 0;
  Mat lat1;  // latent_hidden x latent_dim (im2col output x W^T)
  RowVec lat1_b;
  std::vector<Mat> render_w;
  std::vector<Vec> render_b;
};

void ImplicitFastNetDeleter::operator()(ImplicitFastNet* n) const { delete n; }

std::unique_ptr<ImplicitFastNet, ImplicitFastNetDeleter> make_implicit_fast_net(Method method,
                                                                                 const ImplicitModel& m) {
  std::unique_ptr<ImplicitFastNet, ImplicitFastNetDeleter> n(new ImplicitFastNet);
  n->method = method;
  const int C = n->C = m.channels, U = m.unfold_dim();
  n->head = make_conv(m.head);
  n->tail = make_conv(m.tail);
  for (int i = 0; i < m.blocks; ++i) {
    n->conv1.push_back(make_conv(m.conv1[i]));
    n->conv2.push_back(make_conv(m.conv2[i]));
  }
  if (method == Method::Liif || method == Method::ALiif) {
    const DenseLayer& l0 = m.mlp[0];
    const int H = l0.out;
    n->rc0 = columns(l0, U, 4);
    n->w1 = columns(m.mlp[1], 0, m.mlp[1].in);
    n->b1 = bias(m.mlp[1]);
    n->w2 = columns(m.mlp[2], 0, m.mlp[2].in);
    n->b2 = bias(m.mlp[2]);
    if (method == Method::Liif) {
      // layer 3 (H -> 1) is kept in stack[0] / stack_b[0]
      n->stack[0] = columns(m.mlp[3], 0, m.mlp[3].in);
      n->stack_b[0] = bias(m.mlp[3]);
      n->pdim = H;
      n->pre_w = Mat(U, H);
      unfold_weight(l0, C, n->pre_w, 0, l0.w.data(), H);
      n->pre_b = Eigen::Map<const RowVec>(l0.b.data(), H);
    } else {
      const int K = n->K = m.basis, B = n->B = m.basis_hidden;
      n->pdim = H + K * B;
      n->pre_w = Mat(U, n->pdim);
      n->pre_b = RowVec(n->pdim);
      unfold_weight(l0, C, n->pre_w, 0, l0.w.data(), H);
      for (int o = 0; o < H; ++o) n->pre_b[o] = l0.b[o];
      const DenseLayer& b0 = m.basis_layers[0];  // in = 9C + 4, w: K x B x in
      n->basis_rc = Mat(K * B, 4);
      for (int j = 0; j < K; ++j) {
        DenseLayer view{b0.in, B, {}, {}};
        unfold_weight(view, C, n->pre_w, H + j * B, b0.w.data() + static_cast<std::size_t>(j) * B * b0.in, B);
        for (int o = 0; o < B; ++o) {
          n->pre_b[H + j * B + o] = b0.b[j * B + o];
          for (int i = 0; i < 4; ++i) n->basis_rc(j * B + o, i) = b0.w[(static_cast<std::size_t>(j) * B + o) * b0.in + U + i];
        }
      }
      for (int l = 1; l < 4; ++l) {
        const DenseLayer& bl = m.basis_layers[l];
        n->stack[l - 1] = Eigen::Map<const MatR>(bl.w.data(), static_cast<Eigen::Index>(K) * bl.out, bl.in);
        n->stack_b[l - 1] = Eigen::Map<const Vec>(bl.b.data(), static_cast<Eigen::Index>(K) * bl.out);
      }
    }
  } else {
    const DenseLayer& l0 = m.mlp[0];
    n->R = m.render_hidden;
    n->L = m.render_layers;
    n->pdim = m.latent_dim();
    n->pre_w = Mat(U, l0.out);
    unfold_weight(l0, C, n->pre_w, 0, l0.w.data(), l0.out);
    n->pre_b = Eigen::Map<const RowVec>(l0.b.data(), l0.out);
    n->lat1 = columns(m.mlp[1], 0, m.mlp[1].in).transpose();
    n->lat1_b = Eigen::Map<const RowVec>(m.mlp[1].b.data(), m.mlp[1].out);
    for (const auto& r : m.render) {
      n->render_w.push_back(columns(r, 0, r.in));
      n->render_b.push_back(bias(r));
    }
  }
  return n;
}

namespace {

// Calls fn(y, X) for every row y of an HWC plane with X = its im2col rows (W x 9 cin, zero
// padding), rows in parallel, one X per thread.
template <typename Fn>
void for_im2col_rows(const float* in, int W, int H, int cin, ThreadPool& pool, Fn fn) {
  pool.parallel_for(H, [&](int y0, int y1) {
    MatR X(W, 9 * cin);
    for (int y = y0; y < y1; ++y) {
      for (int x = 0; x < W; ++x) {
        float* dst = X.data() + static_cast<std::size_t>(x) * 9 * cin;
        for (int k = 0; k < 9; ++k) {
          const int xx = x + k % 3 - 1, yy = y + k / 3 - 1;
          if (xx < 0 || xx >= W || yy < 0 || yy >= H) std::memset(dst + k * cin, 0, sizeof(float) * cin);
          else std::memcpy(dst + k * cin, in + (static_cast<std::size_t>(yy) * W + xx) * cin, sizeof(float) * cin);
        }
      }
      fn(y, X);
    }
  });
}

enum class Epilogue { Set, SetRelu, Add };

void conv(const float* in, int W, int H, const Conv& c, float* out, Epilogue e, ThreadPool& pool) {
  for_im2col_rows(in, W, H, c.cin, pool, [&](int y, const MatR& X) {
    Eigen::Map<MatR> O(out + static_cast<std::size_t>(y) * W * c.cout, W, c.cout);
    if (e == Epilogue::Add) {
      O.noalias() += X * c.wt;
      O.rowwise() += c.b;
    } else {
      O.noalias() = X * c.wt;
      O.rowwise() += c.b;
      if (e == Epilogue::SetRelu) O = O.cwiseMax(0.0f);
    }
  });
}

}  // namespace

void implicit_fast_analyse(const ImplicitFastNet& n, ConstPlaneView in, int channel, std::vector<float>& field,
                           std::vector<float>& mod, ThreadPool& pool) {
  const int W = in.width, H = in.height, C = n.C;
  const std::size_t P = static_cast<std::size_t>(W) * H;
  std::vector<float> x(P), h(P * C), b(P * C), t(P * C);
  for (int y = 0; y < H; ++y)
    for (int i = 0; i < W; ++i) x[static_cast<std::size_t>(y) * W + i] = implicit_input(in.row(y)[i * in.channels + channel]);
  conv(x.data(), W, H, n.head, h.data(), Epilogue::Set, pool);
  b = h;
  for (std::size_t i = 0; i < n.conv1.size(); ++i) {
    conv(b.data(), W, H, n.conv1[i], t.data(), Epilogue::SetRelu, pool);
    conv(t.data(), W, H, n.conv2[i], b.data(), Epilogue::Add, pool);
  }
  conv(b.data(), W, H, n.tail, h.data(), Epilogue::Add, pool);  // F = tail(b) + h, in h
  std::vector<float>().swap(b);
  std::vector<float>().swap(t);
  field.assign(P * n.pdim, 0.0f);
  if (n.method != Method::Lmf) {
    for_im2col_rows(h.data(), W, H, C, pool, [&](int y, const MatR& X) {
      Eigen::Map<MatR> O(field.data() + static_cast<std::size_t>(y) * W * n.pdim, W, n.pdim);
      O.noalias() = X * n.pre_w;
      O.rowwise() += n.pre_b;
    });
    mod.clear();
    return;
  }
  mod.assign(P, 0.0f);
  const int shifts = n.L * n.R;
  for_im2col_rows(h.data(), W, H, C, pool, [&](int y, const MatR& X) {
    MatR hidden = X * n.pre_w;
    hidden.rowwise() += n.pre_b;
    hidden = hidden.cwiseMax(0.0f);
    Eigen::Map<MatR> O(field.data() + static_cast<std::size_t>(y) * W * n.pdim, W, n.pdim);
    O.noalias() = hidden * n.lat1;
    O.rowwise() += n.lat1_b;
    for (int x = 0; x < W; ++x) {
      const float* shift = &O(x, shifts);
      float s = 0;
      for (int i = 0; i < shifts; ++i) s += std::abs(shift[i]);
      mod[static_cast<std::size_t>(y) * W + x] = s / static_cast<float>(shifts);
    }
  });
}

void implicit_fast_eval(const ImplicitFastNet& n, const float* field, ConstPlaneView in, int channel,
                        const ImplicitQuery* q, int count, float* y) {
  const int W = in.width, H = in.height, N = 4 * count;
  thread_local std::vector<ImplicitCorners> corners;
  thread_local Mat Z, A, Bm, T, E;
  thread_local RowVec out;
  corners.resize(count);
  for (int i = 0; i < count; ++i) implicit_corners(q[i].qx, q[i].qy, W, H, corners[i]);
  auto pre = [&](int i, int k) {
    const ImplicitCorners& c = corners[i];
    return field + (static_cast<std::size_t>(c.y[k]) * W + c.x[k]) * n.pdim;
  };
  if (n.method == Method::Liif) {
    const int Hd = static_cast<int>(n.rc0.rows());
    Z.resize(Hd, N);
    for (int i = 0; i < count; ++i)
      for (int k = 0; k < 4; ++k) {
        const ImplicitCorners& c = corners[i];
        const float r[4] = {c.rx[k], c.ry[k], q[i].cx, q[i].cy};
        const float* p = pre(i, k);
        float* z = Z.col(i * 4 + k).data();
        for (int o = 0; o < Hd; ++o)
          z[o] = std::max(p[o] + n.rc0(o, 0) * r[0] + n.rc0(o, 1) * r[1] + n.rc0(o, 2) * r[2] + n.rc0(o, 3) * r[3], 0.0f);
      }
    A.noalias() = n.w1 * Z;
    A = (A.colwise() + n.b1).cwiseMax(0.0f);
    Bm.noalias() = n.w2 * A;
    Bm = (Bm.colwise() + n.b2).cwiseMax(0.0f);
    out.noalias() = n.stack[0] * Bm;
    out.array() += n.stack_b[0][0];
  } else if (n.method == Method::ALiif) {
    const int Hd = static_cast<int>(n.rc0.rows()), K = n.K, B = n.B;
    Z.resize(Hd, N);
    for (int i = 0; i < count; ++i)
      for (int k = 0; k < 4; ++k) {
        const ImplicitCorners& c = corners[i];
        const float r[4] = {c.rx[k], c.ry[k], q[i].cx, q[i].cy};
        const float* p = pre(i, k);
        float* z = Z.col(i * 4 + k).data();
        for (int o = 0; o < Hd; ++o)
          z[o] = std::max(p[o] + n.rc0(o, 0) * r[0] + n.rc0(o, 1) * r[1] + n.rc0(o, 2) * r[2] + n.rc0(o, 3) * r[3], 0.0f);
      }
    A.noalias() = n.w1 * Z;
    A = (A.colwise() + n.b1).cwiseMax(0.0f);
    E.noalias() = n.w2 * A;  // K x N expansion output
    E.colwise() += n.b2;
    for (int col = 0; col < N; ++col) {
      const float norm = E.col(col).norm();
      E.col(col) /= std::max(norm, 1e-12f);
    }
    // basis layer 0: mix of the K precomputed terms plus their [rel, cell] terms
    Bm.resize(B, N);
    for (int i = 0; i < count; ++i)
      for (int k = 0; k < 4; ++k) {
        const ImplicitCorners& c = corners[i];
        const int col = i * 4 + k;
        const float r[4] = {c.rx[k], c.ry[k], q[i].cx, q[i].cy};
        const float* p = pre(i, k) + Hd;
        for (int o = 0; o < B; ++o) {
          float acc = 0;
          for (int j = 0; j < K; ++j) {
            const int row = j * B + o;
            acc += E(j, col) * (p[row] + n.basis_rc(row, 0) * r[0] + n.basis_rc(row, 1) * r[1] +
                                n.basis_rc(row, 2) * r[2] + n.basis_rc(row, 3) * r[3]);
          }
          Bm(o, col) = std::max(acc, 0.0f);
        }
      }
    // layers 1..3: all K bases evaluated (one GEMM), then mixed: sum_j c_j (W^j h + b^j)
    // equals (sum_j c_j W^j) h + sum_j c_j b^j.
    for (int l = 0; l < 3; ++l) {
      const int outd = l < 2 ? B : 1;
      T.noalias() = n.stack[l] * Bm;
      T.colwise() += n.stack_b[l];
      A.resize(outd, N);
      for (int col = 0; col < N; ++col)
        for (int o = 0; o < outd; ++o) {
          float acc = 0;
          for (int j = 0; j < K; ++j) acc += E(j, col) * T(j * outd + o, col);
          A(o, col) = l < 2 ? std::max(acc, 0.0f) : acc;
        }
      std::swap(A, Bm);
    }
    out = Bm.row(0);
  } else {
    const int R = n.R, L = n.L;
    Z.resize(R + 4, N);
    for (int i = 0; i < count; ++i)
      for (int k = 0; k < 4; ++k) {
        const ImplicitCorners& c = corners[i];
        float* z = Z.col(i * 4 + k).data();
        std::memcpy(z, pre(i, k) + 2 * L * R, sizeof(float) * R);
        z[R] = c.rx[k], z[R + 1] = c.ry[k], z[R + 2] = q[i].cx, z[R + 3] = q[i].cy;
      }
    for (int l = 0; l < L; ++l) {
      A.noalias() = n.render_w[l] * (l == 0 ? Z : Bm);
      A.colwise() += n.render_b[l];
      for (int i = 0; i < count; ++i) {
        const ImplicitCorners& c = corners[i];
        const float* lat = field + (static_cast<std::size_t>(c.ny) * W + c.nx) * n.pdim;
        const float* scale = lat + l * R;
        const float* shift = lat + (L + l) * R;
        for (int k = 0; k < 4; ++k) {
          float* h = A.col(i * 4 + k).data();
          for (int o = 0; o < R; ++o) h[o] = std::max(h[o] * (1.0f + scale[o]) + shift[o], 0.0f);
        }
      }
      std::swap(A, Bm);
    }
    out.noalias() = n.render_w[L] * Bm;
    out.array() += n.render_b[L][0];
  }
  (void)H;
  for (int i = 0; i < count; ++i) {
    const ImplicitCorners& c = corners[i];
    float residual = 0;
    for (int k = 0; k < 4; ++k) residual += c.w[k] * out[i * 4 + k];
    y[i] = implicit_base(in, channel, q[i].qx, q[i].qy) + residual;
  }
}

}  // namespace lerf::cpu
