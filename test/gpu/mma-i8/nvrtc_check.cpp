// Compiles qs_mma_i8.h the way the app does (NVRTC, headers passed as named sources, --std=c++17
// -default-device) for every quantized format and sm_80 / sm_90. Build: nvcc nvrtc_check.cpp -lnvrtc
// Run from the repository root. Prints one line per compile; exit 1 on a failure.
#include <nvrtc.h>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
static std::string slurp(const char* p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
// argv: the architecture (sm_80, sm_90), then the header file names in kernels/ (every one the app
// passes; qs_kernels.h may include others)
int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string archOpt = std::string("--gpu-architecture=") + argv[1];
  std::vector<std::string> names, srcs;
  for (int i = 2; i < argc; i++) names.push_back(argv[i]), srcs.push_back(slurp((std::string("kernels/") + argv[i]).c_str()));
  std::vector<const char*> hs, hn;
  for (size_t i = 0; i < names.size(); i++) hs.push_back(srcs[i].c_str()), hn.push_back(names[i].c_str());
  int bad = 0;
  const struct {
    int type;
    const char* stem;
  } formats[] = {{2, "q4_0"}, {8, "q8_0"}, {12, "q4_k"}, {13, "q5_k"}, {14, "q6_k"}};
  for (const auto& f : formats)
    for (const char* arch : {archOpt.c_str()}) {
      const int type = f.type;
      const std::string source = std::string("#include \"") + f.stem + ".h\"\n#include \"qs_kernels.h\"\n#include \"qs_q8.h\"\n#include \"qs_mma_i8.h\"\n";
      nvrtcProgram prog;
      nvrtcCreateProgram(&prog, source.c_str(), "mma_i8.cu", (int)hs.size(), hs.data(), hn.data());
      std::string def = "-DQS_TYPE=" + std::to_string(type);
      const char* opts[] = {arch, "--std=c++17", "-default-device", def.c_str()};
      nvrtcResult rc = nvrtcCompileProgram(prog, 4, opts);
      size_t ls = 0;
      nvrtcGetProgramLogSize(prog, &ls);
      std::string log(ls, '\0');
      nvrtcGetProgramLog(prog, &log[0]);
      size_t cs = 0;
      if (rc == NVRTC_SUCCESS) nvrtcGetCUBINSize(prog, &cs);
      printf("nvrtc type %d %s: %s cubin %zu bytes%s\n", type, arch, nvrtcGetErrorString(rc), cs, rc == NVRTC_SUCCESS ? " CUBIN_OK" : "");
      if (rc != NVRTC_SUCCESS) {
        printf("%s\n", log.c_str());
        bad = 1;
      }
      nvrtcDestroyProgram(&prog);
    }
  return bad;
}
