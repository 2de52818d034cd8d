package idcard

import (
	"fmt"
	"strconv"
)

// Nation is a 民族 code of GB/T 3304 as a resident card stores it (two decimal digits).
// The zero Nation means none (foreigner and HMT cards carry no nation).
type Nation uint8

// nations maps GB/T 3304 codes to the names printed on the card.
var nations = map[Nation]string{
	1: "汉", 2: "蒙古", 3: "回", 4: "藏", 5: "维吾尔", 6: "苗", 7: "彝", 8: "壮", 9: "布依", 10: "朝鲜",
	11: "满", 12: "侗", 13: "瑶", 14: "白", 15: "土家", 16: "哈尼", 17: "哈萨克", 18: "傣", 19: "黎",
	20: "傈僳", 21: "佤", 22: "畲", 23: "高山", 24: "拉祜", 25: "水", 26: "东乡", 27: "纳西", 28: "景颇",
	29: "柯尔克孜", 30: "土", 31: "达斡尔", 32: "仫佬", 33: "羌", 34: "布朗", 35: "撒拉", 36: "毛南",
	37: "仡佬", 38: "锡伯", 39: "阿昌", 40: "普米", 41: "塔吉克", 42: "怒", 43: "乌孜别克", 44: "俄罗斯",
	45: "鄂温克", 46: "德昂", 47: "保安", 48: "裕固", 49: "京", 50: "塔塔尔", 51: "独龙", 52: "鄂伦春",
	53: "赫哲", 54: "门巴", 55: "珞巴", 56: "基诺", 97: "其他", 98: "外国血统",
}

// String gives the name printed on the card (汉, 蒙古, ...), "" for the zero Nation, or
// "未知(NN)" for a code outside GB/T 3304.
func (n Nation) String() string {
	if n == 0 {
		return ""
	}
	if s, ok := nations[n]; ok {
		return s
	}
	return fmt.Sprintf("未知(%02d)", uint8(n))
}

// Code gives the two-digit code the card stores ("01").
func (n Nation) Code() string { return fmt.Sprintf("%02d", uint8(n)) }

// Valid tells whether n is in GB/T 3304.
func (n Nation) Valid() bool { _, ok := nations[n]; return ok }

// ParseNation accepts a two-digit code ("01") or a name ("汉", also "汉族"); a code or name
// outside GB/T 3304 is an error.
func ParseNation(s string) (Nation, error) {
	if len(s) == 2 && isDigit(s[0]) && isDigit(s[1]) {
		if v, _ := strconv.Atoi(s); Nation(v).Valid() {
			return Nation(v), nil
		}
	}
	for code, name := range nations {
		if s == name || s == name+"族" {
			return code, nil
		}
	}
	return 0, fmt.Errorf("idcard: unknown nation %q", s)
}
