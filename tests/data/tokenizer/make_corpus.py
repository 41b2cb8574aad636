#!/usr/bin/env python3
"""Writes corpus.txt: the tokenizer test corpus, one case per line.

Escapes (so any byte string fits on a line): \\\\ backslash, \\n, \\t, \\r, \\xHH one raw byte
(which may be invalid UTF-8).  Everything else is UTF-8 text as is.  The cases are
hand-picked groups plus seeded random mixtures of tricky pieces; rerunning gives the same file.
Usage: python3 make_corpus.py > corpus.txt"""
import random
import sys

cases = []


def add(*items):
    for it in items:
        cases.append(it.encode("utf-8") if isinstance(it, str) else it)


# --- English prose and punctuation
add("Hello world", "Hello World!", "hello, world.", "The quick brown fox jumps over the lazy dog.",
    "Once upon a time, there was a little girl named Lily.", "She loved to play outside in the park.",
    "It's a beautiful day; isn't it?", "\"Quoted text\" and 'single quotes'", "Mr. Smith went to Washington D.C.",
    "e.g., i.e., etc., vs.", "A sentence... with ellipsis...", "What?! Really?!", "(parenthesised) [bracketed] {braced}",
    "semi;colon:colon", "hyphen-ated and en–dash and em—dash", "50% off — today only!", "rock 'n' roll",
    "don't won't can't shouldn't y'all'd've", "ALL CAPS SENTENCE HERE", "MiXeD CaSe WoRdS",
    "supercalifragilisticexpialidocious", "antidisestablishmentarianism", "pneumonoultramicroscopicsilicovolcanoconiosis",
    "The year was 1984.", "Tokenization is the first step.", "a", "I", "A.", "ab", "the", "The", " the", "the ",
    "Hello", " Hello", "  Hello", "Hello ", "Hello  ", "Hello world, this is a test of the tokenizer.",
    "In 1492, Columbus sailed the ocean blue.", "user@example.com", "https://www.example.com/path?q=1&r=2#frag",
    "C:\\Program Files\\tl\\tl.exe", "/usr/local/bin/tl --version", "#hashtag @mention $money",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.",
    "To be, or not to be, that is the question:", "Four score and seven years ago our fathers brought forth",
    "~tilde ^caret `backtick` |pipe| *star* _under_ +plus= <less> >greater<")
# --- whitespace runs
for n in (1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 20, 31, 33):
    add(" " * n)
add("\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r", " \n ", "\t\n\t", "a\tb", "a\nb", "a\n\nb", "a \n b",
    "  leading two", "trailing two  ", "  both sides  ", "a  b   c    d     e", "word\t\ttabs", "\n\nHello\n\n",
    "line one\nline two\nline three", "x" + " " * 40 + "y", "\u00a0non-breaking\u00a0space", "thin\u2009space",
    "ideographic\u3000space", "zero\u200bwidth", "\u2028line sep", "\x0bvertical\x0cform", "tab\tend\t",
    " \t \t ", "  \n  \n  ")
# --- digits
add("0", "1", "12", "123", "1234", "12345", "1234567890", "3.14159", "2.718281828459045", "-42", "+7", "1e10",
    "6.02e23", "0x1F", "0b1010", "1,000,000", "1.000.000,00", "$19.99", "€5", "£100", "¥1000", "100%",
    "2024-01-15", "15/01/2024", "12:34:56", "+1 (555) 123-4567", "192.168.0.1", "v1.2.3", "3/4", "½ ¾ ⅓",
    "٠١٢٣٤٥٦٧٨٩", "１２３４５", "00000000", "9" * 30, "1 2 3 4 5", "1st 2nd 3rd 4th", "10^6", "π ≈ 3.14")
# --- code
add("int main(void) { return 0; }", "#include <stdio.h>", "printf(\"%d\\n\", x);", "for (int i = 0; i < n; i++) {",
    "    if (x == NULL) return -1;", "def f(x):\n    return x * 2\n", "import numpy as np", "x = [1, 2, 3]",
    "lambda x: x**2", "{\"key\": \"value\", \"n\": 42}", "[{\"a\": [1, 2]}, null, true]", "SELECT * FROM t WHERE id = 1;",
    "<html><body><p>Hi</p></body></html>", "<div class=\"x\">&amp;&lt;&gt;</div>", "ls -la | grep '.c' > out.txt",
    "echo $HOME && cd ~", "git commit -m \"fix: bug\"", "fn main() { println!(\"hi\"); }", "let x: Vec<u8> = vec![];",
    "const f = (a, b) => a + b;", "a != b && c <= d || e >= f", "x += 1; y -= 2; z *= 3; w /= 4;", "ptr->next->prev",
    "std::vector<std::string> v;", "/* comment */ // line comment", "# python comment", "-- sql comment",
    "\\begin{equation} E = mc^2 \\end{equation}", "^[a-z]+@[a-z]+\\.[a-z]{2,}$", "0xDEADBEEF", "__init__",
    "snake_case_name camelCaseName PascalCaseName kebab-case-name", "\tindented\twith\ttabs",
    "if x:\n\tpass\nelse:\n\tpass", "tensor<f32>[2, 3]", "let y = softmax(x @ W + b, axis=-1)", "a[i][j] = b[j][i];",
    "@decorator\ndef g(): ...", "key: value\nlist:\n  - item", "[section]\nname = \"tl\"")
# --- unicode scripts
add("Ünïcödé", "naïve café résumé", "Ångström", "Größe straße", "Zürich", "señor niño año", "façade garçon",
    "œuvre æsthetic", "ĳ ŀ ŉ", "Ελληνικά γλώσσα", "Привет, мир!", "Здравствуйте", "Українська мова",
    "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Xin chào thế giới", "Tiếng Việt có dấu",
    "ქართული", "Հայերեն", "ᚠᚢᚦᚨᚱᚲ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𝐁𝐨𝐥𝐝", "e\u0301", "e\u0301\u0302", "a\u0308o\u0308u\u0308",
    "\u00e9 vs e\u0301", "ﬁ ﬂ ligatures", "Ⅻ Ⅳ roman", "™ © ®", "°C °F", "µ Ω ∑ ∏ ∫ √ ∞", "← → ↑ ↓ ⇒",
    "♠ ♣ ♥ ♦", "★☆✓✗", "“smart quotes” ‘single’", "«guillemets» ‹single›", "¿Qué? ¡Hola!", "Ⓐⓑⓒ", "ｆｕｌｌｗｉｄｔｈ",
    "\ufeffBOM at start", "soft\u00adhyphen", "right\u200fto\u200eleft", "\u2581Hello", "\u2581", "\u2581\u2581x",
    "Hello\u2581world", "\ufffd replacement char", "\U0010ffff max code point", "\ue000 private use")
# --- CJK
add("你好，世界", "中文分词测试", "我爱北京天安门", "今天天气很好。", "汉字漢字", "こんにちは世界", "ひらがな カタカナ",
    "東京は日本の首都です。", "ｶﾀｶﾅ半角", "안녕하세요 세계", "한국어 형태소", "日本語とEnglishの混在", "中文 English 混合 123",
    "《三国演义》", "「引用」『二重』", "、。，！？", "𠀀𠀁𪚥 rare CJK", "龘靐齉", "一二三四五六七八九十", "你", "好",
    "漢", "ㄅㄆㄇ注音", "〇〇七", "の")
# --- emoji
add("🦙", "🦙🦙🦙", "Hello 🦙 world", "😀", "😀😃😄", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇸 🇯🇵 🇩🇪", "❤️", "✨ sparkles ✨",
    "🔥🔥", "I ❤ NY", "🙂🙃", "🤖 robot", "🎉🎊🎈", "☕ coffee", "⚡", "🧑‍💻 coding", "👋 hi", "1️⃣ 2️⃣ #️⃣",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "😀a😀b", "emoji at end 😀", "😀 emoji at start")
# --- special tokens in text
add("<s>", "</s>", "<unk>", "<s>Hello", "Hello<s>world", "Hello </s> world", "<s> Hello", "Hello </s>",
    "</s><s>", "<s><s><s>", "<s></s>", " <s>", "<s> ", "a<s>b</s>c", "<unk><s></s>", "text <unk> text",
    "<s", "s>", "</s", "<<s>>", "<s>>", "<</s>", "<S>", "< s >", "<s>\n", "\n</s>\n", "<s>你好</s>",
    "<s>🦙</s>", "[INST] Hello [/INST]", "<|user|>\nHi</s>\n<|assistant|>\n", "<|im_start|>user\nhi<|im_end|>",
    "<|system|>\nYou are helpful.</s>", "<0x41>", "<0x0A>", "<0xFF>", "<pad>", "<mask>", "</s></s>")
# --- invalid UTF-8 and raw bytes
add(b"\xff", b"\xfe", b"\x80", b"\xbf", b"\x80\x80", b"\xc3", b"\xc3A", b"\xc3(", b"a\xe3\x81", b"\xe3\x81",
    b"\xe3\x81\x81", b"\xf0\x9f\xa6", b"\xf0\x9f", b"\xf0", b"\xf8\x80\x80\x80A", b"\xfc\x80\x80\x80\x80\x80",
    b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"Hello\xffworld",
    b"\xff\xfe\xfd", b"abc\x80def", b"\x00", b"a\x00b", b"\x00\x00", b"\x01\x02\x03", b"\x1b[31mred\x1b[0m",
    b"\x7f", b"caf\xe9", b"\xe9t\xe9", b"\xc3\xa9\xc3", b"<s>\xff</s>", b"\xff<s>", b" \xff ", b"\xe2\x96",
    b"\xe2\x96\x81\xe2\x96", b"\xc2\xa0\xc2")
# --- misc
add("a" * 64, "ab" * 40, "the " * 20, "." * 30, "-" * 50, "=" * 17, "!?" * 12, "ÿ" * 10, "日" * 20,
    "Hello" * 10, "x y z " * 8, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789" * 3)

# --- seeded random mixtures of tricky pieces
pieces = ["Hello", " world", "  ", " ", "\n", "\t", "<s>", "</s>", "<unk>", "🦙", "😀", "你好", "日本", "é", "e\u0301",
          "ß", "Ω", "123", "4.5", "-", "'", "\"", "(", ")", "{", "}", "x", "the", " the", "ing", "▁", "\u2581\u2581",
          "<", ">", "/", "\\", "\u00a0", "а", "ñ", "ā", "ø", "Ü", "!", "?", ".", ",", ";", ":", "@", "#", "%", "&"]
raw = [b"\xff", b"\x80", b"\xc3", b"\xe3\x81", b"\xf0\x9f", b"\x00", b"\xf8"]
rng = random.Random(5)
for k in range(80):
    n = rng.randint(1, 12)
    parts = []
    for _ in range(n):
        if k >= 60 and rng.random() < 0.2:
            parts.append(rng.choice(raw))
        else:
            parts.append(rng.choice(pieces).encode("utf-8"))
    cases.append(b"".join(parts))

# unique, in order
seen, out = set(), []
for c in cases:
    if c not in seen:
        seen.add(c)
        out.append(c)


def esc(b):
    s = []
    i = 0
    while i < len(b):
        c = b[i]
        if c == 0x5C:
            s.append("\\\\"); i += 1; continue
        if c == 0x0A:
            s.append("\\n"); i += 1; continue
        if c == 0x09:
            s.append("\\t"); i += 1; continue
        if c == 0x0D:
            s.append("\\r"); i += 1; continue
        if c < 0x20 or c == 0x7F:
            s.append("\\x%02X" % c); i += 1; continue
        if c < 0x80:
            s.append(chr(c)); i += 1; continue
        # a valid UTF-8 character stays as is; anything else is escaped byte by byte
        for n in (4, 3, 2):
            try:
                ch = b[i:i + n].decode("utf-8")
                if len(ch) == 1 and not (0x2028 <= ord(ch) <= 0x2029):
                    s.append(ch); i += n; break
            except UnicodeDecodeError:
                pass
        else:
            s.append("\\x%02X" % c); i += 1
    return "".join(s)


sys.stdout.write("".join(esc(c) + "\n" for c in out))
print(len(out), "cases", file=sys.stderr)
