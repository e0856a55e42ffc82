// `vellum archive` against an in-process server that misbehaves: each bad URL gets its own
// one-line reason, the good ones are stored, nothing stalls, and the archive verifies.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/Subprocess.h"
#include "support/TempDir.h"
#include "support/TestHttpServer.h"

using namespace vellum::test;
using nlohmann::json;

TEST(CliFaults, EachFailureHasItsReasonAndGoodCapturesAreKept) {
  TestHttpServer server;
  server.on("/good", Reply::ok("<html>fine</html>", "text/html"));
  server.on("/reset", Reply::partial(5000, std::string(1000, 'r'), Reply::Then::kReset));
  server.on("/stall", Reply::partial(5000, std::string(1000, 's'), Reply::Then::kStall));
  server.on("/endless", Reply::endless());
  server.on("/badstatus", Reply::raw("HTTP/1.1 2x0 Nonsense\r\n\r\n", Reply::Then::kClose));
  server.on("/loop-a", Reply::redirect(302, "/loop-b"));
  server.on("/loop-b", Reply::redirect(302, "/loop-a"));
  server.on("/moved", Reply::redirect(301, "/good"));
  TempDir tmp("faults");
  std::string archive = (tmp / "archive").string();
  std::vector<std::string> args{"--archive", archive, "--json",     "archive",
                                "--timeout", "2",     "--max-size", "100000"};
  for (std::string p : {"/good", "/reset", "/stall", "/endless", "/badstatus", "/loop-a", "/moved"})
    args.push_back(server.url(p));
  std::string out;
  EXPECT_NE(run_vellum(args, &out), 0) << "failures must give a non-zero exit";

  std::map<std::string, json> by_path;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line);
    by_path[j["url"].get<std::string>().substr(server.base_url().size())] = j;
  }
  ASSERT_EQ(by_path.size(), 7u) << out;
  EXPECT_FALSE(by_path["/good"].contains("error"));
  EXPECT_EQ(by_path["/good"]["status"], 200);
  EXPECT_EQ(by_path["/moved"]["final_url"], server.url("/good"));
  EXPECT_EQ(by_path["/moved"]["status"], 200);
  EXPECT_TRUE(by_path["/endless"].value("truncated", false)) << by_path["/endless"].dump();
  EXPECT_FALSE(by_path["/endless"].contains("error"));
  for (std::string p : {"/reset", "/stall", "/badstatus", "/loop-a"}) {
    ASSERT_TRUE(by_path[p].contains("error")) << p << ": " << by_path[p].dump();
    std::string e = by_path[p]["error"];
    EXPECT_EQ(e.find('\n'), std::string::npos) << "one line: " << e;
  }
  EXPECT_NE(by_path["/stall"]["error"].get<std::string>().find("timed out"), std::string::npos);
  EXPECT_NE(by_path["/badstatus"]["error"].get<std::string>().find("status line"),
            std::string::npos);
  EXPECT_NE(by_path["/loop-a"]["error"].get<std::string>().find("redirect loop"),
            std::string::npos);

  // The truncated capture is stored, marked, and restores its first 100000 bytes.
  ASSERT_EQ(
      run_vellum({"--archive", archive, "restore", server.url("/endless"), "--format", "warc"},
                 &out),
      0);
  EXPECT_NE(out.find("WARC-Truncated: length"), std::string::npos);
  ASSERT_EQ(
      run_vellum({"--archive", archive, "restore", server.url("/endless"), "--format", "html"},
                 &out),
      0);
  EXPECT_EQ(out.size(), 100000u);
  ASSERT_EQ(
      run_vellum({"--archive", archive, "restore", server.url("/good"), "--format", "html"}, &out),
      0);
  EXPECT_EQ(out, "<html>fine</html>");
  // A redirect restores as the page it leads to, or as itself with --no-follow.
  ASSERT_EQ(
      run_vellum({"--archive", archive, "restore", server.url("/moved"), "--format", "html"}, &out),
      0);
  EXPECT_EQ(out, "<html>fine</html>");
  ASSERT_EQ(run_vellum({"--archive", archive, "restore", server.url("/moved"), "--no-follow",
                        "--format", "html"},
                       &out),
            0);
  EXPECT_EQ(out, "");
  EXPECT_EQ(run_vellum({"--archive", archive, "verify"}), 0);
}
