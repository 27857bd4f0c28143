//===- FuzzInput.cpp - fuzz inputs handed to path-based readers -----------===//

#include "test/fuzz/FuzzInput.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace llamac::fuzz {

[[noreturn]] static void die(std::string_view message) {
  std::fprintf(stderr, "fuzz harness: %.*s\n", static_cast<int>(message.size()),
               message.data());
  std::abort();
}

InMemoryFile::InMemoryFile(const char *name) {
  fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0)
    die(std::string("memfd_create: ") + std::strerror(errno));
  filePath = "/proc/self/fd/" + std::to_string(fd);
}

InMemoryFile::~InMemoryFile() { close(fd); }

const std::string &InMemoryFile::write(std::string_view bytes) {
  resize(0);
  writeAt(0, bytes);
  return filePath;
}

void InMemoryFile::writeAt(uint64_t offset, std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = pwrite(fd, bytes.data() + done, bytes.size() - done,
                       static_cast<off_t>(offset + done));
    if (n <= 0)
      die(std::string("pwrite: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
}

void InMemoryFile::resize(uint64_t size) {
  if (ftruncate(fd, static_cast<off_t>(size)) != 0)
    die(std::string("ftruncate: ") + std::strerror(errno));
}

std::string readFileOrDie(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    die("cannot read " + path);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

void require(bool condition, std::string_view message) {
  if (!condition)
    die(message);
}

std::string requiredEnv(const char *name) {
  const char *value = std::getenv(name);
  if (!value || !*value)
    die(std::string(name) + " is not set (scripts/fuzz.sh sets it)");
  return value;
}

} // namespace llamac::fuzz
