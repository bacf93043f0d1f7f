// SPDX-License-Identifier: GPL-2.0
//
// The PROCESS record and the FILE records (format 1.1): what the threads
// share, described through a live thread (src/core/process_records.cpp).
#include "dump_check.h"
#include "fixture.h"
#include "image_decode.h"
#include "targets.h"

namespace {

using host_test::decode_image;
using host_test::run_dump;

class Process : public FakeKernelTest {
 protected:
  fake::File& out_ = kernel().open_output(3);

  fake::File& open(fake::Task& task, uint32_t fd, const std::string& path, uint32_t kind, bool cloexec = false) {
    fake::File& file = kernel().new_file(path);
    file.kind = kind;
    file.ino = 7000 + fd;
    file.pos = fd * 512;
    task.fds[fd] = {&file, cloexec};
    return file;
  }
};

TEST_F(Process, EveryDescriptorInOrderWithItsFlags) {
  const auto target = targets::every_kind(kernel());
  open(*target.task, 0, "/dev/null", CKPT_FILE_CHAR);
  open(*target.task, 1, "pipe:[77]", CKPT_FILE_FIFO);
  open(*target.task, 2, "socket:[78]", CKPT_FILE_SOCKET, true);
  open(*target.task, 9, "anon_inode:[eventfd]", CKPT_FILE_ANON, true);
  open(*target.task, 1000, "/var/log/app.log (deleted)", CKPT_FILE_REGULAR).f_flags = 02101;  // O_APPEND|O_CREAT|O_WRONLY
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  const auto image = decode_image(out_.data);
  host_test::expect_image_matches(image, *target.task, *target.mm);
  ASSERT_EQ(image.files.size(), 5u);
  EXPECT_EQ(image.files[4].file.fd, 1000u);
  EXPECT_EQ(image.files[4].path, "/var/log/app.log (deleted)");
  EXPECT_EQ(image.files[2].file.fd_flags, uint32_t(CKPT_FILE_CLOEXEC));
  EXPECT_EQ(image.processes, 1u);
  EXPECT_EQ(image.exe, "/usr/bin/target");
  EXPECT_EQ(image.groups, (std::vector<uint32_t>{4, 24, 27}));
}

// pthread_exit() in main: the zombie leader has no files, cwd or root any
// more; a live thread still has them.
TEST_F(Process, DescribedThroughALiveThreadWhenTheLeaderExited) {
  const auto target = targets::dense_anon(kernel(), 4);
  target.task->threads[0]->exited = true;
  target.task->add_thread(107);
  open(*target.task, 4, "/etc/passwd", CKPT_FILE_REGULAR);
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  const auto image = decode_image(out_.data);
  host_test::expect_image_matches(image, *target.task, *target.mm);
  EXPECT_EQ(image.files.size(), 1u);
  EXPECT_EQ(image.cwd, "/home/user");
}

// A live target may call setgroups() between the count and the copy.
TEST_F(Process, GroupsThatGrowMeanwhileAreReadAgain) {
  const auto target = targets::dense_anon(kernel(), 4);
  target.task->on_groups = [](fake::Task& task) {
    if (task.groups_calls == 1) task.groups.assign(5000, 1234);
  };
  ASSERT_EQ(run_dump(100, 3, CKPT_CHECKPOINT_LIVE).ret, 0);
  const auto image = decode_image(out_.data);
  host_test::expect_image_matches(image, *target.task, *target.mm, /*live=*/true);
  EXPECT_EQ(image.groups.size(), 5000u);
  EXPECT_GE(target.task->groups_calls, 2);
}

// The kernel's limit of 65,536 groups fits in one record.
TEST_F(Process, TheMostGroupsTheKernelAllows) {
  const auto target = targets::dense_anon(kernel(), 4);
  target.task->groups.resize(65536);
  for (size_t i = 0; i < target.task->groups.size(); i++) target.task->groups[i] = uint32_t(i * 3);
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  host_test::expect_image_matches(decode_image(out_.data), *target.task, *target.mm);
}

// d_path() cannot give a path over PATH_MAX: the record says so and the
// dump goes on.
TEST_F(Process, PathsTooLongAreFlaggedNotFatal) {
  const auto target = targets::dense_anon(kernel(), 4);
  const std::string deep = "/" + std::string(5000, 'd');
  target.task->cwd = deep;
  target.task->root = "";
  open(*target.task, 3, deep + "/file", CKPT_FILE_REGULAR);
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  const auto image = decode_image(out_.data);
  host_test::expect_image_matches(image, *target.task, *target.mm);
  EXPECT_EQ(image.process.flags & CKPT_PROCESS_CWD_TOO_LONG, uint32_t(CKPT_PROCESS_CWD_TOO_LONG));
  EXPECT_EQ(image.process.root_len, 0u) << "no root: no path, no flag";
  EXPECT_EQ(image.process.flags & CKPT_PROCESS_ROOT_TOO_LONG, 0u);
  ASSERT_EQ(image.files.size(), 1u);
  EXPECT_EQ(image.files[0].file.fd_flags, uint32_t(CKPT_FILE_PATH_TOO_LONG));
}

// Review #14: a mapped file whose path is longer than PATH_MAX made the
// target undumpable (ENAMETOOLONG).  Its VMA is flagged, has no name, and
// its written pages are dumped like any other file mapping's.
TEST_F(Process, MappedPathTooLongIsFlaggedNotFatal) {
  const auto target = targets::every_kind(kernel());
  const fake::Vma* text = target.mm->vma_at(0x555555554000);
  ASSERT_NE(text, nullptr);
  ASSERT_NE(text->file, nullptr);
  text->file->path = "/" + std::string(5000, 'd') + "/libdeep.so";
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  const auto image = decode_image(out_.data);
  host_test::expect_image_matches(image, *target.task, *target.mm);
  bool seen = false;
  for (const auto& v : image.vmas) {
    if (v.vma.start != text->start) continue;
    seen = true;
    EXPECT_EQ(v.vma.vm_flags & CKPT_VMA_F_NAME_TOO_LONG, CKPT_VMA_F_NAME_TOO_LONG);
    EXPECT_EQ(v.vma.name_len, 0u);
    EXPECT_EQ(v.vma.ino, text->ino);
  }
  EXPECT_TRUE(seen);
  for (const auto& v : image.vmas) {
    if (v.vma.start != text->start) {
      EXPECT_EQ(v.vma.vm_flags & CKPT_VMA_F_NAME_TOO_LONG, 0u);
    }
  }
}

// Thousands of descriptors: one record each, one path buffer for all.
TEST_F(Process, ThousandsOfDescriptorsKeepMemoryBounded) {
  const auto one = targets::dense_anon(kernel(), 4);
  open(*one.task, 0, "/dev/null", CKPT_FILE_CHAR);
  const auto single = run_dump(100, 3);
  ASSERT_EQ(single.ret, 0);

  const auto many = targets::dense_anon(kernel(), 4, 200);
  for (uint32_t fd = 0; fd < 5000; fd += 2) open(*many.task, fd, "/tmp/f" + std::to_string(fd), CKPT_FILE_REGULAR);
  fake::File& out2 = kernel().open_output(4);
  const auto dump = run_dump(200, 4);
  ASSERT_EQ(dump.ret, 0);
  const auto image = decode_image(out2.data);
  host_test::expect_image_matches(image, *many.task, *many.mm);
  EXPECT_EQ(image.files.size(), 2500u);
  EXPECT_EQ(dump.args.peak_kmem, single.args.peak_kmem);
}

}  // namespace
