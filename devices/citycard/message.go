package citycard

import "errors"

// Message is what to tell the citizen at the kiosk, Chinese first.
type Message struct {
	Zh string // Chinese, shown first
	En string // English
}

// String gives "Zh / En".
func (m Message) String() string { return m.Zh + " / " + m.En }

// The citizen-facing messages of a purchase. Each says whether money was taken, since that is
// the first thing a citizen wants to know.
var (
	// MsgUnknown: the card left during DEBIT; recovery needs it back.
	MsgUnknown = Message{"请把卡片放回读卡区，不要移开，正在确认是否已扣款。",
		"Put the card back on the reader and keep it there: we are checking whether the payment went through."}
	// MsgDebited: the money is taken although a later step failed.
	MsgDebited = Message{"已扣款，将照常出具凭证；如未收到凭证，请联系工作人员，不会重复扣款。",
		"The payment went through and a receipt will follow; if none comes out, please ask staff. You will not be charged twice."}
	// MsgInsufficientBalance: 94 01.
	MsgInsufficientBalance = Message{"卡内余额不足，未扣款。请充值后再试，或改用其他方式支付。",
		"Not enough balance on the card; nothing was charged. Top it up or pay another way."}
	// MsgAppLocked: 93 03.
	MsgAppLocked = Message{"此卡已锁定，无法支付，未扣款。请到市民卡服务网点处理。",
		"This card is locked and cannot pay; nothing was charged. Please visit a city card service point."}
	// MsgMACInvalid: 93 02 from the card: MAC1 rejected.
	MsgMACInvalid = Message{"卡片校验失败，未扣款。请重新刷卡；如仍失败，请联系工作人员。",
		"The card could not be verified; nothing was charged. Tap again; if it fails again, please ask staff."}
	// MsgKeyLocked: 69 83.
	MsgKeyLocked = Message{"卡片支付密钥已锁定，未扣款。请到市民卡服务网点处理。",
		"The card's payment key is locked; nothing was charged. Please visit a city card service point."}
	// MsgKeyNotFound: 94 03 from the card.
	MsgKeyNotFound = Message{"本机不支持此卡支付，未扣款。请改用其他方式支付。",
		"This terminal cannot take payment from this card; nothing was charged. Please pay another way."}
	// MsgPSAM: any failure of the PSAM before the debit.
	MsgPSAM = Message{"支付模块故障，未扣款。请联系工作人员，或改用其他方式支付。",
		"The payment module is not working; nothing was charged. Please ask staff or pay another way."}
	// MsgCardLeft: the card left before DEBIT went out.
	MsgCardLeft = Message{"卡片已移开，未扣款。请重新刷卡，并在完成前保持不动。",
		"The card was moved away; nothing was charged. Tap again and hold it still until done."}
	// MsgNotDebited: any other failure before the debit.
	MsgNotDebited = Message{"支付未完成，未扣款。请重新刷卡，或联系工作人员。",
		"The payment did not go through; nothing was charged. Tap again or ask staff."}
)

// CitizenMessage gives what to tell the citizen about a purchase error. The outcome comes
// first: an unknown outcome asks for the card back (MsgUnknown), a debit that happened says so
// (MsgDebited) whatever failed after it. When nothing was taken, the cause picks the message:
// the PSAM side (MsgPSAM, whatever its status word), then 94 01, 93 03, 93 02, 69 83, 94 03,
// a card that left (ErrNoResponse), and MsgNotDebited for anything else. An error that is not
// a PurchaseError counts as nothing taken; nil gives the zero Message.
func CitizenMessage(err error) Message {
	if err == nil {
		return Message{}
	}
	var pe *PurchaseError
	if errors.As(err, &pe) {
		switch pe.Outcome {
		case OutcomeUnknown:
			return MsgUnknown
		case OutcomeDebited:
			return MsgDebited
		}
		if pe.Side == SidePSAM {
			return MsgPSAM
		}
	}
	for _, c := range causes {
		if errors.Is(err, c.err) {
			return c.msg
		}
	}
	return MsgNotDebited
}

// causes are what picks the message when nothing was taken, first match wins.
var causes = []struct {
	err error
	msg Message
}{
	{ErrPSAM, MsgPSAM},
	{ErrInsufficientBalance, MsgInsufficientBalance},
	{ErrAppLocked, MsgAppLocked},
	{ErrMACInvalid, MsgMACInvalid},
	{ErrKeyLocked, MsgKeyLocked},
	{ErrKeyNotFound, MsgKeyNotFound},
	{ErrNoResponse, MsgCardLeft},
}
