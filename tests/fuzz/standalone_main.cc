// Runs a fuzz target over files without libFuzzer (g++ builds): every file named on the command
// line, or every file in a named directory, is one input. ctest runs each target over its seed
// corpus this way, so the seeds stay regression tests in every build.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static int RunFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return 1;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string bytes = buf.str();
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  return 0;
}

int main(int argc, char** argv) {
  int inputs = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      std::fprintf(stderr, "no such file or directory: %s\n", argv[i]);
      return 1;
    }
    if (S_ISDIR(st.st_mode)) {
      DIR* d = opendir(argv[i]);
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        if (RunFile(std::string(argv[i]) + "/" + e->d_name) != 0) return 1;
        ++inputs;
      }
      closedir(d);
    } else {
      if (RunFile(argv[i]) != 0) return 1;
      ++inputs;
    }
  }
  std::printf("%d inputs ran without a failure\n", inputs);
  return inputs > 0 ? 0 : 1;
}
