// The SDK as users get it: installed with `cmake --install`, each header compiling on its own,
// and the template plugin in examples/hello built out of tree with plain cmake against it and
// loaded by the host.
#include <gtest/gtest.h>

#include <filesystem>

#include "plugins/PluginHost.h"
#include "support/TempDir.h"
#include "support/Tools.h"

using namespace vellum;
using namespace vellum::test;
namespace fs = std::filesystem;

TEST(SdkPackage, TemplatePluginBuildsOutOfTreeAgainstTheInstalledSdk) {
  TempDir tmp("sdk");
  fs::path prefix = tmp / "prefix";
  auto [rc, out] = shell("cmake --install " + shell_quote(VELLUM_BINARY_DIR) + " --prefix " +
                         shell_quote(prefix.string()) + " 2>&1");
  ASSERT_EQ(rc, 0) << out;
  ASSERT_TRUE(fs::exists(prefix / "include/vellum/plugin.h"));

  // Every SDK header compiles on its own.
  for (const auto& de : fs::directory_iterator(prefix / "include/vellum")) {
    fs::path cpp = tmp / ("one_" + de.path().stem().string() + ".cpp");
    write_file(cpp, "#include <vellum/" + de.path().filename().string() + ">\n");
    std::tie(rc, out) = shell("g++ -std=c++20 -Wall -Wextra -Werror -fsyntax-only -I" +
                              shell_quote((prefix / "include").string()) +
                              " -I/usr/include/libxml2 " + shell_quote(cpp.string()) + " 2>&1");
    EXPECT_EQ(rc, 0) << de.path().filename() << ":\n" << out;
  }

  fs::path so = build_template_plugin(tmp.path());
  ASSERT_TRUE(fs::exists(so));
  fs::path build = so.parent_path();

  plugins::PluginHost host({{build}, {}, {}});
  EXPECT_TRUE(host.load_all().empty());
  auto p = host.route("https://hello.example/today");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->info().name, "hello");
  Page page;
  page.url = page.final_url = "https://hello.example/today";
  page.html = "<h1>Built outside</h1><article><p>Body.</p></article>";
  page.document = Document::parse(page.html);
  auto a = p->extract(page);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->title, "Built outside");
  EXPECT_EQ(a->body_text(), "Body.");
}
