// A parsed HTML document (libxml2) with XPath and simple CSS selectors, for extractors.
#pragma once

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include <cctype>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vellum {

// Whether an element of this (lower-case) name is laid out as a block: text on either side of
// it reads as separate lines.
inline bool is_block_element(std::string_view name) {
  static constexpr std::string_view kBlocks[] = {
      "p",      "div",     "ul",      "ol",       "li",     "table",  "tr",    "td",  "th",
      "tbody",  "thead",   "h1",      "h2",       "h3",     "h4",     "h5",    "h6",  "blockquote",
      "pre",    "section", "article", "figure",   "main",   "dl",     "dt",    "dd",  "hr",
      "center", "address", "details", "fieldset", "header", "footer", "aside", "nav", "form"};
  for (std::string_view b : kBlocks)
    if (name == b) return true;
  return false;
}

// A non-owning handle to an element (or other node) of a Document; valid while the Document
// lives.
class Node {
 public:
  Node() = default;
  explicit Node(xmlNodePtr n) : node_(n) {}
  explicit operator bool() const { return node_ != nullptr; }
  xmlNodePtr raw() const { return node_; }

  // Lower-case element name ("p", "div"); empty for non-elements.
  std::string tag() const {
    if (!node_ || node_->type != XML_ELEMENT_NODE || !node_->name) return {};
    std::string t(reinterpret_cast<const char*>(node_->name));
    for (char& c : t)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return t;
  }
  bool is_element() const { return node_ && node_->type == XML_ELEMENT_NODE; }
  bool is_text() const {
    return node_ && (node_->type == XML_TEXT_NODE || node_->type == XML_CDATA_SECTION_NODE);
  }

  // Attribute value; empty when absent.
  std::string attr(const char* name) const {
    if (!is_element()) return {};
    xmlChar* v = xmlGetProp(node_, reinterpret_cast<const xmlChar*>(name));
    if (!v) return {};
    std::string out(reinterpret_cast<const char*>(v));
    xmlFree(v);
    return out;
  }
  bool has_attr(const char* name) const {
    return is_element() && xmlHasProp(node_, reinterpret_cast<const xmlChar*>(name)) != nullptr;
  }

  // All text below this node, as libxml2 concatenates it (no whitespace normalisation).
  std::string raw_text() const {
    if (!node_) return {};
    xmlChar* v = xmlNodeGetContent(node_);
    if (!v) return {};
    std::string out(reinterpret_cast<const char*>(v));
    xmlFree(v);
    return out;
  }
  // Text with runs of whitespace collapsed to one space and trimmed.
  std::string text() const { return collapse_space(raw_text()); }

  Node parent() const { return Node(node_ ? node_->parent : nullptr); }
  std::vector<Node> children() const {
    std::vector<Node> out;
    if (!node_) return out;
    for (xmlNodePtr c = node_->children; c; c = c->next) out.emplace_back(c);
    return out;
  }
  std::vector<Node> element_children() const {
    std::vector<Node> out;
    if (!node_) return out;
    for (xmlNodePtr c = node_->children; c; c = c->next)
      if (c->type == XML_ELEMENT_NODE) out.emplace_back(c);
    return out;
  }

  // Nodes matching an XPath expression evaluated with this node as context.
  std::vector<Node> xpath(const std::string& expr) const;
  Node xpath_first(const std::string& expr) const {
    auto v = xpath(expr);
    return v.empty() ? Node() : v.front();
  }
  // Elements below this node matching a simple CSS selector: tag, .class, #id, [attr],
  // [attr=value], [attr*=value], compound forms of those (div.a.b), descendant (" ") and
  // child (">") combinators, and selector lists ("a, b").
  std::vector<Node> select(std::string_view css) const;
  Node select_first(std::string_view css) const {
    auto v = select(css);
    return v.empty() ? Node() : v.front();
  }
  bool has_class(std::string_view cls) const {
    std::string c = attr("class");
    std::size_t i = 0;
    while (i < c.size()) {
      while (i < c.size() && (c[i] == ' ' || c[i] == '\t' || c[i] == '\n')) ++i;
      std::size_t j = i;
      while (j < c.size() && c[j] != ' ' && c[j] != '\t' && c[j] != '\n') ++j;
      if (std::string_view(c).substr(i, j - i) == cls) return true;
      i = j;
    }
    return false;
  }

  static std::string collapse_space(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool space = false;
    for (char c : s) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        space = true;
        continue;
      }
      // U+00A0 (no-break space, C2 A0 in UTF-8) is handled by the caller where it matters.
      if (space && !out.empty()) out += ' ';
      space = false;
      out += c;
    }
    return out;
  }

 private:
  xmlNodePtr node_ = nullptr;
};

// An HTML document parsed from UTF-8 bytes; owns the libxml2 tree.
class Document {
 public:
  // Parses with libxml2's forgiving HTML parser (recovering from errors, no network access).
  // XML_PARSE_HUGE lifts the limits meant for XML (256 levels of nesting, 10 MB text nodes)
  // past which the rest of a page would be dropped without a word: unclosed <div>s nest deep.
  static std::shared_ptr<Document> parse(std::string_view utf8_html, const std::string& url = {}) {
    int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
               HTML_PARSE_COMPACT | XML_PARSE_HUGE;
    htmlDocPtr doc = htmlReadMemory(utf8_html.data(), static_cast<int>(utf8_html.size()),
                                    url.empty() ? nullptr : url.c_str(), "UTF-8", opts);
    if (doc) flatten_below(xmlDocGetRootElement(doc), kMaxDepth);
    return std::shared_ptr<Document>(new Document(doc));
  }

  // Elements nest at most this deep below the root element in a parsed Document. News pages
  // nest about 50 deep; a run of unclosed tags (a footer of <font>s) nests thousands deep,
  // and code that walks the tree recursively must not run out of stack on it.
  static constexpr std::size_t kMaxDepth = 1000;
  ~Document() {
    if (doc_) xmlFreeDoc(doc_);
  }
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

  xmlDocPtr raw() const { return doc_; }
  Node root() const { return Node(doc_ ? xmlDocGetRootElement(doc_) : nullptr); }
  std::vector<Node> xpath(const std::string& expr) const { return root().xpath(expr); }
  Node xpath_first(const std::string& expr) const { return root().xpath_first(expr); }
  std::vector<Node> select(std::string_view css) const { return root().select(css); }
  Node select_first(std::string_view css) const { return root().select_first(css); }

  // Each element at depth `limit` that holds elements keeps their text (that of scripts and
  // styles aside) as one text node in their place, a line break where a block or <br> ended a
  // line: the text deeper markup holds is still read, its words apart, and nothing below is
  // deeper than `limit`. Iterative, as the tree may be any depth.
  static void flatten_below(xmlNodePtr root, std::size_t limit) {
    std::size_t depth = 1;
    xmlNodePtr n = root;
    while (n) {
      if (depth == limit && n->type == XML_ELEMENT_NODE) flatten(n);
      if (n->children && n->type == XML_ELEMENT_NODE && depth < limit) {
        n = n->children;
        ++depth;
        continue;
      }
      while (n != root && !n->next) {
        n = n->parent;
        --depth;
      }
      if (n == root) break;
      n = n->next;
    }
  }

 private:
  static bool holds_elements(xmlNodePtr n) {
    for (xmlNodePtr k = n->children; k; k = k->next)
      if (k->type == XML_ELEMENT_NODE) return true;
    return false;
  }

  static void flatten(xmlNodePtr top) {
    if (!holds_elements(top)) return;
    std::string text;
    xmlNodePtr n = top->children;
    while (n) {
      if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
        if (n->content) text += reinterpret_cast<const char*>(n->content);
      } else if (n->type == XML_ELEMENT_NODE) {
        if (breaks_line(n)) text += '\n';  // its start
        if (n->children && !is_code(n)) {
          n = n->children;
          continue;
        }
        if (breaks_line(n)) text += '\n';  // the end of one without children
      }
      while (n != top && !n->next) {
        n = n->parent;
        if (n != top && breaks_line(n)) text += '\n';  // the end of one whose children are read
      }
      if (n == top) break;
      n = n->next;
    }
    while (xmlNodePtr k = top->children) {
      xmlUnlinkNode(k);
      xmlFreeNode(k);
    }
    xmlAddChild(top, xmlNewDocText(top->doc, reinterpret_cast<const xmlChar*>(text.c_str())));
  }

  // A block element or <br>: text on either side is on lines of its own.
  static bool breaks_line(xmlNodePtr n) {
    if (!n->name) return false;
    const std::string_view name(reinterpret_cast<const char*>(n->name));
    return name == "br" || is_block_element(name);
  }

  static bool is_code(xmlNodePtr n) {
    return n->name && (xmlStrcasecmp(n->name, reinterpret_cast<const xmlChar*>("script")) == 0 ||
                       xmlStrcasecmp(n->name, reinterpret_cast<const xmlChar*>("style")) == 0);
  }

  explicit Document(xmlDocPtr d) : doc_(d) {}
  xmlDocPtr doc_;
};

inline std::vector<Node> Node::xpath(const std::string& expr) const {
  std::vector<Node> out;
  if (!node_ || !node_->doc) return out;
  xmlXPathContextPtr ctx = xmlXPathNewContext(node_->doc);
  if (!ctx) return out;
  ctx->node = node_;
  xmlXPathObjectPtr res =
      xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>(expr.c_str()), ctx);
  if (res && res->type == XPATH_NODESET && res->nodesetval) {
    for (int i = 0; i < res->nodesetval->nodeNr; ++i) out.emplace_back(res->nodesetval->nodeTab[i]);
  }
  xmlXPathFreeObject(res);
  xmlXPathFreeContext(ctx);
  return out;
}

namespace detail {

// One compound selector: tag, id, classes, attribute tests.
struct CssCompound {
  std::string tag;  // empty or "*": any
  std::string id;
  std::vector<std::string> classes;
  struct AttrTest {
    std::string name, value;
    char op = 0;  // 0: present, '=': equals, '*': contains, '^': starts with, '$': ends with
  };
  std::vector<AttrTest> attrs;

  bool matches(const Node& n) const {
    if (!n.is_element()) return false;
    if (!tag.empty() && tag != "*" && n.tag() != tag) return false;
    if (!id.empty() && n.attr("id") != id) return false;
    for (const auto& c : classes)
      if (!n.has_class(c)) return false;
    for (const auto& a : attrs) {
      if (!n.has_attr(a.name.c_str())) return false;
      std::string v = n.attr(a.name.c_str());
      if (a.op == '=' && v != a.value) return false;
      if (a.op == '*' && v.find(a.value) == std::string::npos) return false;
      if (a.op == '^' && v.rfind(a.value, 0) != 0) return false;
      if (a.op == '$' && (v.size() < a.value.size() ||
                          v.compare(v.size() - a.value.size(), a.value.size(), a.value) != 0))
        return false;
    }
    return true;
  }
};

struct CssStep {
  CssCompound compound;
  bool child = false;  // joined to the previous step by '>' (else descendant)
};

inline std::vector<std::vector<CssStep>> parse_css(std::string_view css) {
  std::vector<std::vector<CssStep>> list(1);
  std::size_t i = 0;
  bool child = false;
  auto ident = [&](std::size_t& k) {
    std::size_t s = k;
    while (k < css.size() && (std::isalnum(static_cast<unsigned char>(css[k])) || css[k] == '-' ||
                              css[k] == '_' || css[k] == '*'))
      ++k;
    return std::string(css.substr(s, k - s));
  };
  while (i < css.size()) {
    char c = css[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      ++i;
      continue;
    }
    if (c == ',') {
      list.emplace_back();
      child = false;
      ++i;
      continue;
    }
    if (c == '>') {
      child = true;
      ++i;
      continue;
    }
    CssStep step;
    step.child = child;
    child = false;
    while (i < css.size() && css[i] != ' ' && css[i] != ',' && css[i] != '>') {
      if (css[i] == '.') {
        ++i;
        step.compound.classes.push_back(ident(i));
      } else if (css[i] == '#') {
        ++i;
        step.compound.id = ident(i);
      } else if (css[i] == '[') {
        auto close = css.find(']', i);
        if (close == std::string_view::npos) close = css.size();
        std::string_view inner = css.substr(i + 1, close - i - 1);
        CssCompound::AttrTest t;
        auto eq = inner.find('=');
        if (eq == std::string_view::npos) {
          t.name = std::string(inner);
        } else {
          std::size_t name_end = eq;
          if (eq > 0 && (inner[eq - 1] == '*' || inner[eq - 1] == '^' || inner[eq - 1] == '$')) {
            t.op = inner[eq - 1];
            name_end = eq - 1;
          } else {
            t.op = '=';
          }
          t.name = std::string(inner.substr(0, name_end));
          std::string_view v = inner.substr(eq + 1);
          if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
            v = v.substr(1, v.size() - 2);
          t.value = std::string(v);
        }
        step.compound.attrs.push_back(std::move(t));
        i = close == css.size() ? close : close + 1;
      } else {
        std::string t = ident(i);
        if (t.empty()) {
          ++i;  // skip what the subset does not know
          continue;
        }
        for (char& ch : t)
          if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
        step.compound.tag = t;
      }
    }
    list.back().push_back(std::move(step));
  }
  return list;
}

// Does `n` match steps[0..k] with steps[k] matching n itself?
inline bool css_match(const std::vector<CssStep>& steps, std::size_t k, const Node& n,
                      xmlNodePtr scope) {
  if (!steps[k].compound.matches(n)) return false;
  if (k == 0) return true;
  Node p = n.parent();
  if (steps[k].child)
    return p.raw() != scope && p.is_element() && css_match(steps, k - 1, p, scope);
  for (; p && p.raw() != scope && p.is_element(); p = p.parent())
    if (css_match(steps, k - 1, p, scope)) return true;
  return false;
}

inline void css_walk(xmlNodePtr n, const std::vector<std::vector<CssStep>>& list, xmlNodePtr scope,
                     std::vector<Node>& out) {
  for (xmlNodePtr c = n->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    Node node(c);
    for (const auto& steps : list) {
      if (!steps.empty() && css_match(steps, steps.size() - 1, node, scope)) {
        out.push_back(node);
        break;
      }
    }
    css_walk(c, list, scope, out);
  }
}

}  // namespace detail

inline std::vector<Node> Node::select(std::string_view css) const {
  std::vector<Node> out;
  if (!node_) return out;
  auto list = detail::parse_css(css);
  detail::css_walk(node_, list, node_, out);
  return out;
}

}  // namespace vellum
