// etc/vellum.toml and docs/configuration.md are rendered from ConfigSchema; these tests keep
// them in step with it, and the schema's defaults in step with Config.h.
#include <gtest/gtest.h>

#include <sstream>

#include "config/ConfigLoader.h"
#include "config/ConfigSchema.h"
#include "support/TempDir.h"

#include "ConfigCompare.h"

using namespace vellum::config;
using vellum::test::read_file;

namespace {

std::filesystem::path source_path(const std::string& relative) {
  return std::filesystem::path(VELLUM_SOURCE_DIR) / relative;
}

}  // namespace

TEST(ShippedConfig, EqualsTheFileRenderedFromTheSchema) {
  // On failure: write default_config_toml() to etc/vellum.toml again.
  EXPECT_EQ(read_file(source_path("etc/vellum.toml")), default_config_toml());
}

TEST(ShippedConfig, DocsHoldTheKeyReferenceRenderedFromTheSchema) {
  // On failure: paste config_reference_markdown() into docs/configuration.md again.
  std::string docs = read_file(source_path("docs/configuration.md"));
  EXPECT_NE(docs.find(config_reference_markdown()), std::string::npos);
}

TEST(ShippedConfig, LoadsToTheDefaults) {
  Config shipped = load_config_string(read_file(source_path("etc/vellum.toml")), "vellum.toml");
  vellum::config::test::expect_same_settings(shipped, default_config());
  EXPECT_TRUE(shipped.sources.empty());
}

TEST(ShippedConfig, SchemaDefaultsAgreeWithConfigH) {
  vellum::config::test::expect_same_settings(default_config(), Config{});
  EXPECT_TRUE(default_config().files.empty());
}

TEST(ShippedConfig, ListsEveryKeyOfEverySection) {
  std::string shipped = default_config_toml();
  for (const auto& section : config_schema()) {
    EXPECT_NE(shipped.find(section.header() + "\n"), std::string::npos) << section.header();
    for (const auto& key : section.keys) {
      bool commented = section.array || key.default_toml.empty();
      std::string line = (commented ? "\n#" : "\n") + key.key + " = ";
      if (key.type == KeyType::tables) line = "\n#[" + section.name + "." + key.key + ".";
      EXPECT_NE(shipped.find(line), std::string::npos) << section.name << "." << key.key;
    }
  }
}

TEST(ShippedConfig, SourceExampleIsAValidSourceOnceUncommented) {
  // The commented [[source]] block, with the '#' taken off its key lines, as a user would copy
  // it into sources.d.
  std::string shipped = default_config_toml();
  std::string block = shipped.substr(shipped.find("#[[source]]"));
  std::string uncommented;
  std::istringstream lines(block);
  for (std::string line; std::getline(lines, line);)
    if (line.size() > 1 && line[1] != ' ') uncommented += line.substr(1) + "\n";
  Config c = load_config_string(uncommented, "example.toml");
  ASSERT_EQ(c.sources.size(), 1u);
  EXPECT_EQ(c.sources[0].name, "example-news");
  EXPECT_EQ(c.sources[0].kind, "page");
  EXPECT_FALSE(c.sources[0].link_pattern.empty());
  EXPECT_EQ(c.sources[0].robots, true);
  ASSERT_EQ(c.sources[0].headers.size(), 1u);
}

TEST(ShippedConfig, CommentLinesFitInOneHundredColumns) {
  std::istringstream lines(default_config_toml());
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << line;
}
