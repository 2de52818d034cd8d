package web

import (
	"strings"

	"citizenhome/hall/notify"
)

// The console's Chinese labels (the crew reads Chinese first; the English is beneath).

var stateNames = map[string]string{
	"init": "启动中", "ready": "正常", "degraded": "部分故障", "locked": "暂停服务",
	"maintenance": "维护中", "disconnected": "已断开", "lost": "失联",
}

// stateZH is a lifecycle state's or a device state's Chinese name; an unknown one as it is.
func stateZH(s string) string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	if n, ok := deviceStateNames[s]; ok {
		return n
	}
	return s
}

var deviceNames = map[string]string{
	"printer": "打印机", "id-reader": "身份证阅读器", "card-reader": "卡片读卡器", "speaker": "扬声器",
	"camera": "摄像头", "scanner": "扫描仪", "pinpad": "密码键盘", "touch": "触摸屏",
}

func deviceZH(d string) string {
	if n, ok := deviceNames[d]; ok {
		return n
	}
	return d
}

var deviceStateNames = map[string]string{
	"ok": "正常", "paper-low": "纸将尽", "paper-out": "缺纸", "cover-open": "盖未关", "error": "故障",
	"offline": "离线", "absent": "未配置",
}

// alertZH names an alert: "{device}-{state}" codes by their device and state, kiosk-lost, the
// codes of a whole kiosk that the notifications name (a call for staff, a PIN lockout, an
// overdue order), or the code itself.
func alertZH(code string) string {
	if code == "kiosk-lost" {
		return "设备失联"
	}
	if n := notify.Name(code, ""); n != code {
		return n
	}
	for d, n := range deviceNames {
		if st, ok := strings.CutPrefix(code, d+"-"); ok {
			if s, ok := deviceStateNames[st]; ok {
				return n + s
			}
		}
	}
	return code
}

func severityZH(s string) string {
	switch s {
	case "error":
		return "故障"
	case "warning":
		return "警告"
	}
	return s
}

// commandLabels are the console's commands: Chinese, English, and what the confirmation says.
var commandLabels = map[string]struct{ ZH, EN, Explain string }{
	"lock":     {"暂停服务", "Lock", "自助机显示“暂停服务”及下面的说明，不再接待办事群众，直到恢复服务。"},
	"unlock":   {"恢复服务", "Unlock", "自助机回到首页，重新接待办事群众。"},
	"reset":    {"重置", "Reset", "结束当前会话、清除其数据、回到首页并重新检查设备。"},
	"reprint":  {"补打号票", "Reprint", "按号码补打今天的一张号票。"},
	"selftest": {"自检", "Self-test", "打印一张测试页并报告各设备状态。"},
	"rebirth":  {"重新上报", "Rebirth", "自助机重新上报状态、快照和告警（不影响办事群众）。"},
}
