/*
 * Link-time stand-ins for the NVIDIA driver's libnvidia-encode.so.1 and
 * libnvcuvid.so.1, so that the NVENC helper links on a machine without the
 * driver. They carry the real sonames, so the helper records a dependency on
 * the driver's libraries and loads those at run time; they are never on the
 * run-time library path. Calling one of these means the stubs were loaded by
 * mistake: each returns an error (NV_ENC_ERR_NO_ENCODE_DEVICE = 2).
 */
int NvEncodeAPIGetMaxSupportedVersion(unsigned int *version) { (void)version; return 2; }
int NvEncodeAPICreateInstance(void *functions) { (void)functions; return 2; }
