//===- OutputFileTest.cpp - writing a file without losing data ------------===//
//
// compiler/support/OutputFile: the one way the compiler writes files. The
// checks here are what `llamac compile -o X` got wrong before issue 16: X
// being the input, a device or FIFO, a predictable shared temporary, and a
// failed write that lost the old file.
//
//===----------------------------------------------------------------------===//

#include "compiler/support/OutputFile.h"
#include "test/unit/TempDir.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

using namespace llamac;
using namespace llamac::testing;
using ::testing::HasSubstr;

namespace {

std::string errorOf(llvm::Error error) {
  if (!error) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(std::move(error));
}

std::string contents(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The names in `dir`, hidden ones included.
std::vector<std::string> listing(const std::string &dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    names.push_back(llvm::sys::path::filename(it->path()).str());
  return names;
}

TEST(OutputFileTest, WritesUnderATemporaryAndRenamesOnCommit) {
  TempDir dir;
  std::string path = dir.write("out.bin", "old");
  auto file = OutputFile::create(path);
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  ASSERT_FALSE(static_cast<bool>((*file)->write("new")));
  ASSERT_FALSE(static_cast<bool>((*file)->padTo(8)));
  EXPECT_EQ((*file)->position(), 8u);
  // The old file stays whole until the new one is complete.
  EXPECT_EQ(contents(path), "old");
  EXPECT_EQ(listing(dir.path()).size(), 2u);
  ASSERT_FALSE(static_cast<bool>((*file)->commit()));
  EXPECT_EQ(contents(path), std::string("new\0\0\0\0\0", 8));
  EXPECT_THAT(listing(dir.path()), ::testing::ElementsAre("out.bin"));
}

TEST(OutputFileTest, ExtendedRegionIsFilledInAnyOrder) {
  // The artifact writer's weights region: extended first, its tensors
  // written at their offsets in any order, the rest reading as zeros, and
  // appends going after it.
  TempDir dir;
  std::string path = dir.file("out.bin");
  auto file = OutputFile::create(path);
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  ASSERT_FALSE(static_cast<bool>((*file)->write("head")));
  ASSERT_FALSE(static_cast<bool>((*file)->extendTo(16)));
  EXPECT_EQ((*file)->position(), 16u);
  ASSERT_FALSE(static_cast<bool>((*file)->overwrite(10, "late", 4)));
  ASSERT_FALSE(static_cast<bool>((*file)->overwrite(5, "early", 5)));
  ASSERT_FALSE(static_cast<bool>((*file)->write("tail")));
  // Behind the position it is an internal error, not a truncation.
  EXPECT_THAT(errorOf((*file)->extendTo(8)), HasSubstr("internal error"));
  ASSERT_FALSE(static_cast<bool>((*file)->commit()));
  EXPECT_EQ(contents(path), std::string("head\0earlylate\0\0tail", 20));
}

TEST(OutputFileTest, AbandonedWriteLeavesTheOldFileAndNoTemporary) {
  TempDir dir;
  std::string path = dir.write("out.bin", "old");
  {
    auto file = OutputFile::create(path);
    ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
    ASSERT_FALSE(static_cast<bool>((*file)->write("partial")));
  }
  EXPECT_EQ(contents(path), "old");
  EXPECT_THAT(listing(dir.path()), ::testing::ElementsAre("out.bin"));
}

TEST(OutputFileTest, RefusesTheInputsHoweverNamed) {
  TempDir dir;
  std::string input = dir.write("model.bin", "weights");
  std::string hard = dir.file("hard.bin");
  std::string soft = dir.file("soft.bin");
  ASSERT_EQ(::link(input.c_str(), hard.c_str()), 0);
  ASSERT_EQ(::symlink(input.c_str(), soft.c_str()), 0);
  for (const std::string &out : {input, hard, soft})
    EXPECT_EQ(errorOf(OutputFile::create(out, {input}).takeError()),
              "refusing to write " + out + ": it is the input file " + input +
                  ", which writing would destroy");
  EXPECT_EQ(contents(input), "weights");
  // Another file in the same directory is fine.
  EXPECT_FALSE(static_cast<bool>(
      writeFileAtomically(dir.file("artifact"), "x", {input})));
}

TEST(OutputFileTest, RefusesWhatIsNotARegularFile) {
  TempDir dir;
  std::string fifo = dir.file("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(errorOf(OutputFile::create(fifo).takeError()),
            "refusing to write " + fifo + ": it is a FIFO, not a regular file");
  EXPECT_EQ(errorOf(OutputFile::create(dir.path()).takeError()),
            "refusing to write " + dir.path() +
                ": it is a directory, not a regular file");
  struct stat st;
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  // A device node of our own (/dev/null's numbers); only root may make one.
  std::string device = dir.file("null");
  if (::mknod(device.c_str(), S_IFCHR | 0600, makedev(1, 3)) != 0)
    GTEST_SKIP() << "cannot create a device node here (not root)";
  EXPECT_EQ(errorOf(OutputFile::create(device).takeError()),
            "refusing to write " + device +
                ": it is a character device, not a regular file");
  ASSERT_EQ(::stat(device.c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(OutputFileTest, TemporariesAreUniqueAndNeverFollowASymlink) {
  TempDir dir;
  std::string path = dir.file("out.bin");
  // Where a predictable temporary would have been.
  std::string victim = dir.write("victim", "precious");
  ASSERT_EQ(::symlink(victim.c_str(), (path + ".tmp").c_str()), 0);
  auto first = OutputFile::create(path);
  auto second = OutputFile::create(path);
  ASSERT_TRUE(static_cast<bool>(first)) << llvm::toString(first.takeError());
  ASSERT_TRUE(static_cast<bool>(second)) << llvm::toString(second.takeError());
  // victim, out.bin.tmp and two temporaries.
  EXPECT_EQ(listing(dir.path()).size(), 4u);
  ASSERT_FALSE(static_cast<bool>((*first)->write("first")));
  ASSERT_FALSE(static_cast<bool>((*second)->write("second")));
  ASSERT_FALSE(static_cast<bool>((*first)->commit()));
  ASSERT_FALSE(static_cast<bool>((*second)->commit()));
  EXPECT_EQ(contents(path), "second");
  EXPECT_EQ(contents(victim), "precious");
}

TEST(OutputFileTest, SymlinkedOutputIsWrittenWhereItLeads) {
  TempDir dir;
  std::string target = dir.write("target.bin", "old");
  std::string link = dir.file("link.bin");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto file = OutputFile::create(link);
  ASSERT_TRUE(static_cast<bool>(file)) << llvm::toString(file.takeError());
  ASSERT_FALSE(static_cast<bool>((*file)->write("new")));
  ASSERT_FALSE(static_cast<bool>((*file)->commit()));
  // The link is still a link, and what it leads to holds the new bytes.
  struct stat st;
  ASSERT_EQ(::lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(contents(target), "new");
  // link.bin and target.bin: no temporary left.
  EXPECT_EQ(listing(dir.path()).size(), 2u);

  std::string dangling = dir.file("dangling.bin");
  ASSERT_EQ(::symlink(dir.file("missing/nowhere").c_str(), dangling.c_str()), 0);
  auto refused = OutputFile::create(dangling);
  ASSERT_FALSE(static_cast<bool>(refused));
  EXPECT_THAT(llvm::toString(refused.takeError()),
              HasSubstr("is a symbolic link that leads nowhere"));
}

/// The error of `attempt(file)` on an OutputFile over `path` while the file
/// size limit is 4096 bytes and SIGXFSZ ignored (what the tools do at
/// start: EFBIG instead of death by SIGXFSZ).
std::string errorPastFileSizeLimit(const std::string &path,
                                   llvm::function_ref<llvm::Error(OutputFile &)> attempt) {
  auto previous = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit saved;
  if (getrlimit(RLIMIT_FSIZE, &saved) != 0) {
    ADD_FAILURE() << "getrlimit failed";
    return "";
  }
  struct rlimit small = saved;
  small.rlim_cur = 4096;
  if (setrlimit(RLIMIT_FSIZE, &small) != 0) {
    ADD_FAILURE() << "setrlimit failed";
    return "";
  }
  std::string message;
  {
    auto file = OutputFile::create(path);
    if (file)
      message = errorOf(attempt(**file));
    else
      message = llvm::toString(file.takeError());
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous);
  return message;
}

TEST(OutputFileTest, WritePastTheFileSizeLimitIsAnError) {
  TempDir dir;
  std::string path = dir.write("out.bin", "old");
  EXPECT_EQ(errorPastFileSizeLimit(path,
                                   [](OutputFile &file) {
                                     return file.write(std::string(10000, 'x'));
                                   }),
            "cannot write " + path + ": File too large");
  EXPECT_EQ(contents(path), "old");
  EXPECT_THAT(listing(dir.path()), ::testing::ElementsAre("out.bin"));
}

TEST(OutputFileTest, ExtendingPastTheFileSizeLimitIsAnError) {
  TempDir dir;
  std::string path = dir.write("out.bin", "old");
  EXPECT_EQ(errorPastFileSizeLimit(path, [](OutputFile &file) { return file.extendTo(10000); }),
            "cannot write " + path + ": File too large");
  EXPECT_EQ(contents(path), "old");
  EXPECT_THAT(listing(dir.path()), ::testing::ElementsAre("out.bin"));
}

TEST(OutputFileTest, MissingDirectoryIsOneLine) {
  TempDir dir;
  std::string path = dir.file("no/such/dir/out.bin");
  EXPECT_EQ(errorOf(OutputFile::create(path).takeError()),
            "cannot write " + path +
                ": cannot create a temporary file in its directory: No such "
                "file or directory");
}

} // namespace
