// Example 5: change lerfscale's method while the pipeline is PLAYING.
//
// Builds  videotestsrc is-live=true ! 320x240 ! lerfscale ! 960x720 ! fakesink  and switches
// `method` every second through nearest, bilinear, bicubic, lanczos (and lerf-g when
// --with-lerf is given and a model is found), printing the frames rendered with each. The
// element copies its settings at the start of every frame and rebuilds its engine when the
// method changed, so the switch is race-free and takes effect at the next frame.
//
//   GST_PLUGIN_PATH=build/gst-plugin build/examples/change_method [--with-lerf]
#include <gst/gst.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct App {
  GMainLoop* loop = nullptr;
  GstElement* scale = nullptr;
  std::vector<std::string> methods;
  std::size_t next = 0;
  std::atomic<unsigned> frames{0};  // frames since the last switch (counted on the sink's handoff)
  bool failed = false;
};

void on_handoff(GstElement*, GstBuffer*, GstPad*, gpointer data) {
  static_cast<App*>(data)->frames++;
}

gboolean switch_method(gpointer data) {
  auto* app = static_cast<App*>(data);
  unsigned frames = app->frames.exchange(0);
  if (app->next > 0) g_print("  %u frames with %s\n", frames, app->methods[app->next - 1].c_str());
  if (app->next == app->methods.size()) {
    g_main_loop_quit(app->loop);
    return G_SOURCE_REMOVE;
  }
  const std::string& m = app->methods[app->next++];
  g_print("method=%s\n", m.c_str());
  gst_util_set_object_arg(G_OBJECT(app->scale), "method", m.c_str());
  return G_SOURCE_CONTINUE;
}

gboolean on_bus(GstBus*, GstMessage* msg, gpointer data) {
  auto* app = static_cast<App*>(data);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* err = nullptr;
    gst_message_parse_error(msg, &err, nullptr);
    g_printerr("error from %s: %s\n", GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), err->message);
    g_error_free(err);
    app->failed = true;
    g_main_loop_quit(app->loop);
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
    g_main_loop_quit(app->loop);
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  App app;
  app.methods = {"nearest", "bilinear", "bicubic", "lanczos"};
  if (argc > 1 && std::strcmp(argv[1], "--with-lerf") == 0) app.methods.emplace_back("lerf-g");

  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(
      "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! "
      "lerfscale name=scale method=nearest ! video/x-raw,width=960,height=720 ! "
      "fakesink name=sink sync=true signal-handoffs=true",
      &err);
  if (!pipeline) {
    g_printerr("cannot build the pipeline: %s (is GST_PLUGIN_PATH set to build/gst-plugin?)\n",
               err ? err->message : "unknown error");
    if (err) g_error_free(err);
    return 1;
  }
  app.scale = gst_bin_get_by_name(GST_BIN(pipeline), "scale");
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), &app);
  gst_object_unref(sink);

  app.loop = g_main_loop_new(nullptr, FALSE);
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_bus_add_watch(bus, on_bus, &app);
  gst_object_unref(bus);

  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  switch_method(&app);
  g_timeout_add(1000, switch_method, &app);
  g_main_loop_run(app.loop);

  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(app.scale);
  gst_object_unref(pipeline);
  g_main_loop_unref(app.loop);
  return app.failed ? 1 : 0;
}
