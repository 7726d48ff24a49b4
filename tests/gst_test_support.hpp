// What the GStreamer element tests (test_gst_elements.cpp, test_gst_streaming.cpp) share:
// caps strings, video infos as the elements read them, a deterministic test picture, and
// frames as tightly packed planes.
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace gsttest {

inline std::string caps_of(GstVideoFormat f, int w, int h, const char* extra = "") {
  return std::string("video/x-raw,format=") + gst_video_format_to_string(f) + ",width=" + std::to_string(w) +
         ",height=" + std::to_string(h) + ",framerate=30/1,pixel-aspect-ratio=1/1" + extra;
}

// The video info of caps with the chroma siting read from the caps, as the elements do
// (GStreamer 1.22's gst_video_info_from_caps ignores chroma-site).
inline GstVideoInfo info_of(GstCaps* caps) {
  GstVideoInfo info;
  gst_video_info_init(&info);
  EXPECT_TRUE(caps && gst_video_info_from_caps(&info, caps));
  if (caps && !gst_caps_is_empty(caps)) {
    const gchar* site = gst_structure_get_string(gst_caps_get_structure(caps, 0), "chroma-site");
    if (site) {
      GstVideoChromaSite parsed = gst_video_chroma_site_from_string(site);
      if (parsed != GST_VIDEO_CHROMA_SITE_UNKNOWN) info.chroma_site = parsed;
    }
  }
  return info;
}

inline GstVideoInfo info_from(const std::string& caps_str) {
  GstCaps* caps = gst_caps_from_string(caps_str.c_str());
  GstVideoInfo info = info_of(caps);
  if (caps) gst_caps_unref(caps);
  return info;
}

// A deterministic picture: smooth waves per channel plus a little hashed noise.
inline std::uint8_t pattern(int x, int y, int c, int seed, int noise = 12) {
  double v = 128 + 70 * std::sin(0.31 * x + 0.9 * c + seed) * std::cos(0.23 * y + 0.5 * c) + 20 * std::sin(0.05 * (x + 2 * y));
  std::uint32_t hsh = static_cast<std::uint32_t>(x) * 73856093u ^ static_cast<std::uint32_t>(y) * 19349663u ^
                      static_cast<std::uint32_t>(c + 7 * seed) * 83492791u;
  hsh = (hsh ^ (hsh >> 13)) * 0x5bd1e995u;
  v += static_cast<int>((hsh >> 8) % (2 * noise + 1)) - noise;
  return static_cast<std::uint8_t>(std::clamp(v, 0.0, 255.0));
}

// The visible samples of one plane, tightly packed.
struct PlaneData {
  int width = 0, height = 0, channels = 1;
  std::vector<std::uint8_t> bytes;
  friend bool operator==(const PlaneData&, const PlaneData&) = default;
};
using Planes = std::vector<PlaneData>;

// GoogleTest's printer for failures: the size and the first samples.
inline void PrintTo(const PlaneData& p, std::ostream* os) {
  *os << p.width << "x" << p.height << "x" << p.channels << " {";
  for (std::size_t i = 0; i < std::min<std::size_t>(p.bytes.size(), 24); ++i) *os << (i ? " " : "") << int(p.bytes[i]);
  *os << " ...}";
}

inline int plane_component(const GstVideoInfo& info, guint plane) {
  gint comps[GST_VIDEO_MAX_COMPONENTS];
  gst_video_format_info_component(info.finfo, plane, comps);
  return comps[0];
}

inline Planes planes_of(const GstVideoInfo& info, GstBuffer* buf) {
  Planes planes;
  GstVideoFrame f;
  if (!gst_video_frame_map(&f, &info, buf, GST_MAP_READ)) {
    ADD_FAILURE() << "cannot map a frame";
    return planes;
  }
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&f); ++p) {
    int comp = plane_component(info, p);
    PlaneData d;
    d.width = GST_VIDEO_FRAME_COMP_WIDTH(&f, comp);
    d.height = GST_VIDEO_FRAME_COMP_HEIGHT(&f, comp);
    d.channels = GST_VIDEO_FRAME_COMP_PSTRIDE(&f, comp);
    auto* data = static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&f, p));
    for (int y = 0; y < d.height; ++y) {
      const std::uint8_t* row = data + y * GST_VIDEO_FRAME_PLANE_STRIDE(&f, p);
      d.bytes.insert(d.bytes.end(), row, row + d.width * d.channels);
    }
    planes.push_back(std::move(d));
  }
  gst_video_frame_unmap(&f);
  return planes;
}

}  // namespace gsttest
