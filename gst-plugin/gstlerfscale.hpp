// lerfscale: rescales raw video with learned (LeRF) or classical resampling.
#pragma once

#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_LERF_SCALE (gst_lerf_scale_get_type())
G_DECLARE_FINAL_TYPE(GstLerfScale, gst_lerf_scale, GST, LERF_SCALE, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE(lerfscale);

G_END_DECLS
