package bench

import (
	"image"
	"image/color"
	"strings"
)

// glyphs is a 3x5 pixel font of the characters the chart writes, one
// string of 15 cells per character, row by row; '#' is ink. Letters are
// drawn in capitals.
var glyphs = map[rune]string{
	'0': "####.##.##.####", '1': ".#.##..#..#.###", '2': "###..#####..###",
	'3': "###..#.##..####", '4': "#.##.####..#..#", '5': "####..###..####",
	'6': "####..####.####", '7': "###..#.#..#..#.", '8': "####.#####.####",
	'9': "####.####..####", 'A': ".#.#.#####.##.#", 'B': "##.#.###.#.###.",
	'C': ".###..#..#...##", 'D': "##.#.##.##.###.", 'E': "####..##.#..###",
	'F': "####..##.#..#..", 'G': ".###..#.##.#.##", 'H': "#.##.#####.##.#",
	'I': "###.#..#..#.###", 'J': "..#..#..##.#.#.", 'K': "#.##.###.#.##.#",
	'L': "#..#..#..#..###", 'M': "#.########.##.#", 'N': "##.#.##.##.##.#",
	'O': ".#.#.##.##.#.#.", 'P': "##.#.###.#..#..", 'Q': ".#.#.##.###..##",
	'R': "##.#.###.#.##.#", 'S': ".###...#...###.", 'T': "###.#..#..#..#.",
	'U': "#.##.##.##.####", 'V': "#.##.##.##.#.#.", 'W': "#.##.########.#",
	'X': "#.##.#.#.#.##.#", 'Y': "#.##.#.#..#..#.", 'Z': "###..#.#.#..###",
	'.': ".............#.", ',': "..........#.#..", ':': "....#.....#....",
	'-': "......###......", '/': "..#..#.#.#..#..", '@': "####.#####..###",
	'%': "#.#..#.#.#..#.#", '<': "..#.#.#...#...#", '>': "#...#...#.#.#..",
	'=': "...###...###...", '(': ".#.#..#..#...#.", ')': ".#...#..#..#.#.",
	'+': "....#.###.#....", '_': "............###", ' ': "...............",
	'?': "###..#.#.....#.",
}

// drawText writes s at (x, y) with each font pixel scale pixels wide.
func drawText(img *image.RGBA, x, y, scale int, c color.Color, s string) {
	for _, r := range strings.ToUpper(s) {
		g, ok := glyphs[r]
		if !ok {
			g = glyphs['?']
		}
		for i, cell := range g {
			if cell == '#' {
				fill(img, x+(i%3)*scale, y+(i/3)*scale, scale, scale, c)
			}
		}
		x += 4 * scale
	}
}

// textWidth returns the width drawText gives s.
func textWidth(s string, scale int) int { return len([]rune(s)) * 4 * scale }

// fill paints a w x h rectangle at (x, y).
func fill(img *image.RGBA, x, y, w, h int, c color.Color) {
	for i := x; i < x+w; i++ {
		for j := y; j < y+h; j++ {
			img.Set(i, j, c)
		}
	}
}
