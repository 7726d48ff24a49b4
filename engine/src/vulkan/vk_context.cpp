#include "vk_context.hpp"

#include <algorithm>
#include <cstdlib>

#include "lerf/error.hpp"

namespace lerf::vk {

const char* result_name(VkResult r) {
  switch (r) {
#define LERF_VK_RESULT(x) \
  case x: return #x;
    LERF_VK_RESULT(VK_SUCCESS)
    LERF_VK_RESULT(VK_NOT_READY)
    LERF_VK_RESULT(VK_TIMEOUT)
    LERF_VK_RESULT(VK_INCOMPLETE)
    LERF_VK_RESULT(VK_ERROR_OUT_OF_HOST_MEMORY)
    LERF_VK_RESULT(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    LERF_VK_RESULT(VK_ERROR_INITIALIZATION_FAILED)
    LERF_VK_RESULT(VK_ERROR_DEVICE_LOST)
    LERF_VK_RESULT(VK_ERROR_MEMORY_MAP_FAILED)
    LERF_VK_RESULT(VK_ERROR_LAYER_NOT_PRESENT)
    LERF_VK_RESULT(VK_ERROR_EXTENSION_NOT_PRESENT)
    LERF_VK_RESULT(VK_ERROR_FEATURE_NOT_PRESENT)
    LERF_VK_RESULT(VK_ERROR_INCOMPATIBLE_DRIVER)
    LERF_VK_RESULT(VK_ERROR_TOO_MANY_OBJECTS)
    LERF_VK_RESULT(VK_ERROR_FORMAT_NOT_SUPPORTED)
    LERF_VK_RESULT(VK_ERROR_FRAGMENTED_POOL)
    LERF_VK_RESULT(VK_ERROR_OUT_OF_POOL_MEMORY)
    LERF_VK_RESULT(VK_ERROR_UNKNOWN)
#undef LERF_VK_RESULT
    default: return "VkResult (unknown code)";
  }
}

void fail(VkResult r, const std::string& what) {
  std::string msg = "Vulkan: " + what + " failed: " + result_name(r) + " (" + std::to_string(static_cast<int>(r)) + ")";
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED)
    msg += "; no usable Vulkan driver (check the ICD, e.g. VK_ICD_FILENAMES)";
  throw Error(msg);
}

const char* device_type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated-gpu";
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete-gpu";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual-gpu";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

Instance::Instance() {
  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "lerfscale";
  app.pEngineName = "lerf-engine";
  app.apiVersion = VK_API_VERSION_1_1;
  VkInstanceCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  info.pApplicationInfo = &app;
  check(vkCreateInstance(&info, nullptr, &instance_), "vkCreateInstance");
}

Instance::~Instance() {
  if (instance_) vkDestroyInstance(instance_, nullptr);
}

std::vector<VkPhysicalDevice> Instance::physical_devices() const {
  std::uint32_t n = 0;
  check(vkEnumeratePhysicalDevices(instance_, &n, nullptr), "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> devices(n);
  if (n) check(vkEnumeratePhysicalDevices(instance_, &n, devices.data()), "vkEnumeratePhysicalDevices");
  devices.resize(n);
  return devices;
}

Context::Context(int device_index) : instance_(std::make_unique<Instance>()) {
  auto devices = instance_->physical_devices();
  if (devices.empty()) throw Error("Vulkan: no Vulkan device (the loader found no usable driver)");
  if (device_index < 0 || device_index >= static_cast<int>(devices.size()))
    throw Error("Vulkan: no Vulkan device " + std::to_string(device_index) + " (" + std::to_string(devices.size()) +
                " device" + (devices.size() == 1 ? "" : "s") + " found; see `lerf info`)");
  physical_ = devices[device_index];
  read_properties();

  std::uint32_t nq = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(physical_, &nq, nullptr);
  std::vector<VkQueueFamilyProperties> families(nq);
  vkGetPhysicalDeviceQueueFamilyProperties(physical_, &nq, families.data());
  bool found = false;
  for (std::uint32_t i = 0; i < nq && !found; ++i)
    if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
      queue_family_ = i;
      found = true;
    }
  if (!found) throw Error("Vulkan: device " + name_ + " has no compute queue");

  float priority = 1.0f;
  VkDeviceQueueCreateInfo qinfo{};
  qinfo.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  qinfo.queueFamilyIndex = queue_family_;
  qinfo.queueCount = 1;
  qinfo.pQueuePriorities = &priority;
  VkDeviceCreateInfo dinfo{};
  dinfo.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  dinfo.queueCreateInfoCount = 1;
  dinfo.pQueueCreateInfos = &qinfo;
  check(vkCreateDevice(physical_, &dinfo, nullptr, &device_), "vkCreateDevice");
  vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
}

Context::Context(const ExternalDevice& e)
    : owned_(false),
      lock_queue_(e.lock_queue),
      unlock_queue_(e.unlock_queue),
      physical_(e.physical_device),
      device_(e.device),
      queue_(e.queue),
      queue_family_(e.queue_family) {
  if (!e.instance || !e.physical_device || !e.device || !e.queue)
    throw Error("Vulkan: external device with a null instance, physical device, device or queue");
  read_properties();
  std::uint32_t nq = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(physical_, &nq, nullptr);
  std::vector<VkQueueFamilyProperties> families(nq);
  vkGetPhysicalDeviceQueueFamilyProperties(physical_, &nq, families.data());
  if (queue_family_ >= nq || !(families[queue_family_].queueFlags & VK_QUEUE_COMPUTE_BIT))
    throw Error("Vulkan: queue family " + std::to_string(queue_family_) + " of " + name_ + " has no compute");
}

void Context::read_properties() {
  VkPhysicalDeviceProperties props;
  vkGetPhysicalDeviceProperties(physical_, &props);
  name_ = props.deviceName;
  type_ = props.deviceType;
  max_groups_x_ = props.limits.maxComputeWorkGroupCount[0];
  max_push_constants_ = props.limits.maxPushConstantsSize;
  vkGetPhysicalDeviceMemoryProperties(physical_, &memory_);
}

Context::~Context() {
  if (device_ && owned_) {
    vkDeviceWaitIdle(device_);
    vkDestroyDevice(device_, nullptr);
  }
}

VkResult Context::submit(const VkSubmitInfo& info, VkFence fence) const {
  if (lock_queue_) lock_queue_();
  VkResult r = vkQueueSubmit(queue_, 1, &info, fence);
  if (unlock_queue_) unlock_queue_();
  return r;
}

std::uint32_t Context::memory_type(std::uint32_t bits, VkMemoryPropertyFlags want,
                                   VkMemoryPropertyFlags fallback) const {
  for (VkMemoryPropertyFlags flags : {want, fallback})
    for (std::uint32_t i = 0; i < memory_.memoryTypeCount; ++i)
      if ((bits & (1u << i)) && (memory_.memoryTypes[i].propertyFlags & flags) == flags) return i;
  throw Error("Vulkan: no suitable memory type on " + name_);
}

Buffer::Buffer(std::shared_ptr<const Context> ctx, VkDeviceSize size, Kind kind) : ctx_(std::move(ctx)), size_(size) {
  VkDevice dev = ctx_->device();
  VkBufferCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  info.size = size;
  info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  check(vkCreateBuffer(dev, &info, nullptr, &buffer_), "vkCreateBuffer");
  try {
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev, buffer_, &req);
    constexpr VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    std::uint32_t type = 0;
    switch (kind) {
      case Kind::Device: type = ctx_->memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0); break;
      case Kind::Upload: type = ctx_->memory_type(req.memoryTypeBits, host, host); break;
      case Kind::Download:
        type = ctx_->memory_type(req.memoryTypeBits, host | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, host);
        break;
    }
    VkMemoryAllocateInfo alloc{};
    alloc.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
    alloc.allocationSize = req.size;
    alloc.memoryTypeIndex = type;
    check(vkAllocateMemory(dev, &alloc, nullptr, &memory_), "vkAllocateMemory");
    check(vkBindBufferMemory(dev, buffer_, memory_, 0), "vkBindBufferMemory");
    if (kind != Kind::Device) check(vkMapMemory(dev, memory_, 0, VK_WHOLE_SIZE, 0, &mapped_), "vkMapMemory");
  } catch (...) {
    if (memory_) vkFreeMemory(dev, memory_, nullptr);
    vkDestroyBuffer(dev, buffer_, nullptr);
    throw;
  }
}

Buffer::~Buffer() {
  VkDevice dev = ctx_->device();
  vkDestroyBuffer(dev, buffer_, nullptr);
  vkFreeMemory(dev, memory_, nullptr);  // unmaps implicitly
}

void ensure_buffer(std::unique_ptr<Buffer>& buf, const std::shared_ptr<const Context>& ctx, VkDeviceSize size,
                   Buffer::Kind kind) {
  size = std::max<VkDeviceSize>(4, (size + 3) & ~VkDeviceSize{3});
  if (!buf || buf->size() < size) {
    buf.reset();
    buf = std::make_unique<Buffer>(ctx, size, kind);
  }
}

VkPipeline create_compute_pipeline(VkDevice device, std::span<const std::uint32_t> code, VkPipelineLayout layout) {
  VkShaderModuleCreateInfo sm{};
  sm.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
  sm.codeSize = code.size_bytes();
  sm.pCode = code.data();
  VkShaderModule module;
  check(vkCreateShaderModule(device, &sm, nullptr, &module), "vkCreateShaderModule");
  VkComputePipelineCreateInfo cp{};
  cp.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
  cp.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  cp.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  cp.stage.module = module;
  cp.stage.pName = "main";
  cp.layout = layout;
  VkPipeline pipeline = VK_NULL_HANDLE;
  VkResult r = vkCreateComputePipelines(device, VK_NULL_HANDLE, 1, &cp, nullptr, &pipeline);
  vkDestroyShaderModule(device, module, nullptr);
  check(r, "vkCreateComputePipelines");
  return pipeline;
}

}  // namespace lerf::vk

namespace lerf {

std::vector<VulkanDeviceInfo> list_vulkan_devices() {
  vk::Instance instance;
  std::vector<VulkanDeviceInfo> result;
  // Test hook: LERF_VK_TEST_SOFTWARE_AS_GPU=1 reports software devices as not CPU, so that
  // backend auto picks lavapipe (tests of the auto fallback on machines without a GPU).
  const char* as_gpu = std::getenv("LERF_VK_TEST_SOFTWARE_AS_GPU");
  const bool software_as_gpu = as_gpu && std::string(as_gpu) == "1";
  for (VkPhysicalDevice d : instance.physical_devices()) {
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(d, &props);
    result.push_back({static_cast<int>(result.size()), props.deviceName, vk::device_type_name(props.deviceType),
                      props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU && !software_as_gpu});
  }
  return result;
}

}  // namespace lerf
