// The lerf GStreamer plugin: lerfscale (rescaling) and lerfwarp (homography warping).
#include <gst/gst.h>

#include "gstlerfscale.hpp"
#include "gstlerfwarp.hpp"

#ifndef PACKAGE
#define PACKAGE "lerfscale"
#endif

static gboolean plugin_init(GstPlugin* plugin) {
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER(lerfscale, plugin);
  ok |= GST_ELEMENT_REGISTER(lerfwarp, plugin);
  return ok;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, lerf,
                  "Learned resampling (LeRF) and classical kernels: video rescaling and homography warping",
                  plugin_init, LERF_VERSION, "MIT/X11", "lerfscale", "https://github.com/lerfscale/lerfscale")
