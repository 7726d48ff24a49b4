// lerfwarp: warps raw video by a homography with learned (LeRF) or classical resampling.
#pragma once

#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_LERF_WARP (gst_lerf_warp_get_type())
G_DECLARE_FINAL_TYPE(GstLerfWarp, gst_lerf_warp, GST, LERF_WARP, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE(lerfwarp);

G_END_DECLS
