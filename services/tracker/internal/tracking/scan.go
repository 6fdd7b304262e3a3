package tracking

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxSkipDepth bounds the nesting of unknown values the scanner steps
// over; anything deeper goes to the strict decoder, which has its own
// limit and error.
const maxSkipDepth = 64

// scanner reads JSON from one string in a single pass. Strings without
// escapes are returned as substrings of src, so a whole batch costs one
// copy of the body however many fields it has.
//
// Every method reports ok=false on anything it does not handle exactly as
// encoding/json would, valid JSON or not; the caller then gives the body
// to the strict decoder, which owns every error message.
type scanner struct {
	src string
	pos int
}

// space skips JSON whitespace and returns the next byte, or 0 at the end.
func (s *scanner) space() byte {
	for s.pos < len(s.src) {
		switch c := s.src[s.pos]; c {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

// next consumes c, after whitespace, and reports whether it was there.
func (s *scanner) next(c byte) bool {
	if s.space() != c {
		return false
	}
	s.pos++
	return true
}

// end reports whether only whitespace is left.
func (s *scanner) end() bool {
	return s.space() == 0 && s.pos == len(s.src)
}

// members calls member for each key of the object at the current
// position, with the scanner on the key's value.
func (s *scanner) members(member func(key string) bool) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	for {
		key, ok := s.str()
		if !ok || !s.next(':') || !member(key) {
			return false
		}
		if s.next('}') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

// str reads a string. Escapes are decoded; invalid UTF-8 and lone
// surrogates, which encoding/json would silently replace, are refused.
func (s *scanner) str() (string, bool) {
	if s.space() != '"' {
		return "", false
	}
	start := s.pos + 1
	ascii := true
	for i := start; i < len(s.src); i++ {
		switch c := s.src[i]; {
		case c == '"':
			s.pos = i + 1
			v := s.src[start:i]
			return v, ascii || utf8.ValidString(v)
		case c == '\\':
			return s.escaped(start)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// escaped reads a string holding escapes, starting at its first byte.
func (s *scanner) escaped(start int) (string, bool) {
	var b strings.Builder
	b.Grow(32)
	for i := start; i < len(s.src); {
		c := s.src[i]
		switch {
		case c == '"':
			s.pos = i + 1
			v := b.String()
			return v, utf8.ValidString(v)
		case c < 0x20:
			return "", false
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		n, ok := s.escape(&b, i)
		if !ok {
			return "", false
		}
		i += n
	}
	return "", false
}

// escape writes the escape at i to b and returns its length in src.
func (s *scanner) escape(b *strings.Builder, i int) (int, bool) {
	if i+1 >= len(s.src) {
		return 0, false
	}
	if c := s.src[i+1]; c != 'u' {
		r, ok := simpleEscapes[c]
		b.WriteByte(r)
		return 2, ok
	}
	r, ok := s.hex4(i + 2)
	if !ok {
		return 0, false
	}
	if !utf16.IsSurrogate(r) {
		b.WriteRune(r)
		return 6, true
	}
	if i+7 >= len(s.src) || s.src[i+6] != '\\' || s.src[i+7] != 'u' {
		return 0, false
	}
	lo, ok := s.hex4(i + 8)
	pair := utf16.DecodeRune(r, lo)
	if !ok || pair == utf8.RuneError {
		return 0, false
	}
	b.WriteRune(pair)
	return 12, true
}

var simpleEscapes = map[byte]byte{
	'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t',
}

// hex4 reads the four hex digits at i.
func (s *scanner) hex4(i int) (rune, bool) {
	if i+4 > len(s.src) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s.src[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads a number and returns its JSON text.
func (s *scanner) number() (string, bool) {
	s.space()
	start, i := s.pos, s.pos
	if i < len(s.src) && s.src[i] == '-' {
		i++
	}
	switch {
	case i < len(s.src) && s.src[i] == '0':
		i++
	case i < len(s.src) && s.src[i] >= '1' && s.src[i] <= '9':
		i = s.digits(i)
	default:
		return "", false
	}
	if i < len(s.src) && s.src[i] == '.' {
		if i = s.digits(i + 1); s.src[i-1] == '.' {
			return "", false
		}
	}
	if i < len(s.src) && (s.src[i] == 'e' || s.src[i] == 'E') {
		i++
		if i < len(s.src) && (s.src[i] == '+' || s.src[i] == '-') {
			i++
		}
		if j := s.digits(i); j > i {
			i = j
		} else {
			return "", false
		}
	}
	s.pos = i
	return s.src[start:i], true
}

// digits returns the index past the digits starting at i.
func (s *scanner) digits(i int) int {
	for i < len(s.src) && s.src[i] >= '0' && s.src[i] <= '9' {
		i++
	}
	return i
}

// word consumes the literal w (true, false or null) when it is next.
func (s *scanner) word(w string) bool {
	s.space()
	if !strings.HasPrefix(s.src[s.pos:], w) {
		return false
	}
	s.pos += len(w)
	return true
}

// scalar reads a string, number or boolean as the text the topic
// carries, and reports null as present=false.
func (s *scanner) scalar() (v string, present, ok bool) {
	switch s.space() {
	case '"':
		v, ok = s.str()
		return v, true, ok
	case 'n':
		return "", false, s.word("null")
	case 't':
		return "true", true, s.word("true")
	case 'f':
		return "false", true, s.word("false")
	}
	v, ok = s.number()
	return v, true, ok
}

// skip steps over one value of any kind.
func (s *scanner) skip(depth int) bool {
	switch s.space() {
	case '{':
		if depth >= maxSkipDepth {
			return false
		}
		return s.members(func(string) bool { return s.skip(depth + 1) })
	case '[':
		if depth >= maxSkipDepth {
			return false
		}
		return s.elements(func() bool { return s.skip(depth + 1) })
	}
	_, _, ok := s.scalar()
	return ok
}

// elements calls elem for each element of the array at the current
// position, with the scanner on the element.
func (s *scanner) elements(elem func() bool) bool {
	if !s.next('[') {
		return false
	}
	if s.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.next(']') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

// unknownKey reports whether key may be skipped as encoding/json would:
// it matches none of known, not even case-insensitively. Keys beyond
// ASCII are not judged, since Unicode case folding can map them onto a
// known name.
func unknownKey(key string, known []string) bool {
	for i := 0; i < len(key); i++ {
		if key[i] >= utf8.RuneSelf {
			return false
		}
	}
	for _, k := range known {
		if strings.EqualFold(key, k) {
			return false
		}
	}
	return true
}
