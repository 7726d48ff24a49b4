// The GstElement / GstBaseTransform virtual functions lerfscale and lerfwarp share: stopping
// (engine cache and Vulkan state released), Vulkan context, queries and allocation. Each
// element gives a Traits struct:
//   static State& state(gpointer element);  // the element's state: .cache, .vk
//   static gpointer parent_class();         // G_DEFINE_TYPE's <type>_parent_class
#pragma once

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>

#include "lerfcommon.hpp"
#include "lerfvulkan.hpp"

namespace lerfgst {

template <typename Traits>
struct SharedVfuncs {
  static gboolean stop(GstBaseTransform* trans) {
    Traits::state(trans).cache.reset();
    Traits::state(trans).vk.stop();
    return TRUE;
  }
  static void set_context(GstElement* element, GstContext* context) {
    Traits::state(element).vk.set_context(element, context);
    GST_ELEMENT_CLASS(Traits::parent_class())->set_context(element, context);
  }
  static gboolean query(GstBaseTransform* trans, GstPadDirection direction, GstQuery* query) {
    if (Traits::state(trans).vk.query(GST_ELEMENT(trans), query)) return TRUE;
    return GST_BASE_TRANSFORM_CLASS(Traits::parent_class())->query(trans, direction, query);
  }
  static gboolean propose_allocation(GstBaseTransform* trans, GstQuery* decide_query, GstQuery* query) {
    auto& vk = Traits::state(trans).vk;
    if (vk.active() && !gst_base_transform_is_passthrough(trans)) return vk.propose_allocation(trans, query);
    return GST_BASE_TRANSFORM_CLASS(Traits::parent_class())->propose_allocation(trans, decide_query, query);
  }
  static gboolean decide_allocation(GstBaseTransform* trans, GstQuery* query) {
    auto& vk = Traits::state(trans).vk;
    if (vk.active()) return vk.decide_allocation(trans, query);
    return GST_BASE_TRANSFORM_CLASS(Traits::parent_class())->decide_allocation(trans, query);
  }
  static void install(GstElementClass* element_class, GstBaseTransformClass* trans_class) {
    trans_class->stop = stop;
    element_class->set_context = set_context;
    trans_class->query = query;
    trans_class->propose_allocation = propose_allocation;
    trans_class->decide_allocation = decide_allocation;
  }
};

}  // namespace lerfgst
