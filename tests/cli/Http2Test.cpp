// HTTP/2 over TLS when the server offers it: nginx on 127.0.0.1 with a certificate made for the
// test, captured through `vellum archive --resolve --cacert`, restored byte for byte.
#include <gtest/gtest.h>

#include "support/Corpus.h"
#include "support/Nginx.h"
#include "support/Subprocess.h"
#include "support/TempDir.h"
#include "support/Tools.h"

using namespace vellum::test;

TEST(Http2, CapturesOverHttp2AndRestoresByteIdentical) {
  if (!Nginx::available()) GTEST_SKIP() << "nginx is not installed";
  TempDir tmp("h2");
  std::string cert = (tmp / "cert.pem").string(), key = (tmp / "key.pem").string();
  ASSERT_EQ(shell("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=vellum.test "
                  "-addext subjectAltName=DNS:vellum.test -keyout '" +
                  key + "' -out '" + cert + "' 2>&1")
                .first,
            0)
      << "openssl is needed for this test";
  auto pages = build_corpus_site(tmp.path());
  Nginx nginx(tmp.path(),
              "    ssl_certificate " + cert + ";\n    ssl_certificate_key " + key + ";\n",
              "ssl http2");
  std::string port = std::to_string(nginx.port());
  std::string base = "https://vellum.test:" + port;
  std::string archive = (tmp / "archive").string();
  std::vector<std::string> args{
      "--archive", archive, "archive", "--resolve", "vellum.test:" + port + ":127.0.0.1",
      "--cacert",  cert};
  for (int i = 0; i < 5; ++i) args.push_back(base + pages[i].path);
  std::string out;
  ASSERT_EQ(run_vellum(args, &out), 0) << out;

  ASSERT_EQ(
      run_vellum({"--archive", archive, "restore", base + pages[0].path, "--format", "warc"}, &out),
      0);
  EXPECT_NE(out.find("\r\n\r\nHTTP/2 200"), std::string::npos) << out.substr(0, 2000);
  EXPECT_NE(out.find("WARC-IP-Address: 127.0.0.1"), std::string::npos);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(
        run_vellum({"--archive", archive, "restore", base + pages[i].path, "--format", "html"},
                   &out),
        0);
    EXPECT_EQ(out, read_file(pages[i].file)) << pages[i].path;
  }
  EXPECT_EQ(run_vellum({"--archive", archive, "verify"}), 0);

  // Without the certificate the same server is refused, with a reason.
  ASSERT_NE(run_vellum({"--archive", archive, "--json", "archive", "--resolve",
                        "vellum.test:" + port + ":127.0.0.1", base + pages[0].path},
                       &out),
            0);
  EXPECT_NE(out.find("\"error\""), std::string::npos) << out;
}
