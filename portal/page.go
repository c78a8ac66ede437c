package portal

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"

	"lianzheng/credential"
	"lianzheng/internal/bilingual"
	"lianzheng/verifier"
)

// words are the page texts, Simplified Chinese first.
var words = map[string]bilingual.Text{
	"title":        {Zh: "网上服务平台", En: "Online services"},
	"switch":       {Zh: "English", En: "中文"},
	"items":        {Zh: "可在线办理的事项", En: "Services available online"},
	"start":        {Zh: "在线申请", En: "Apply online"},
	"purpose":      {Zh: "用途", En: "Purpose"},
	"asks":         {Zh: "本事项将向您的钱包请求以下信息（链上登记范围内）", En: "This service will ask your wallet for (within its ledger registration)"},
	"scan":         {Zh: "请用链证通钱包扫描二维码", En: "Scan the QR code with your LianZheng wallet"},
	"same":         {Zh: "本机已安装钱包？", En: "Wallet on this device?"},
	"open":         {Zh: "打开钱包出示", En: "Open the wallet"},
	"waiting":      {Zh: "等待钱包回应……", En: "Waiting for the wallet…"},
	"fetched":      {Zh: "钱包已读取请求，请在钱包中确认出示", En: "The wallet has read the request; confirm in the wallet"},
	"expires":      {Zh: "请求有效期至", En: "Request valid until"},
	"expired":      {Zh: "本次请求已过期，请重新开始", En: "This request has expired; start again"},
	"again":        {Zh: "重新开始", En: "Start again"},
	"verdict":      {Zh: "核验结果", En: "Verification result"},
	"issuer":       {Zh: "签发部门", En: "Issued by"},
	"status":       {Zh: "状态", En: "Status"},
	"reason":       {Zh: "原因代码", En: "Reason code"},
	"hidden":       {Zh: "项信息未出示（本事项不需要）", En: "fields not disclosed (not needed for this service)"},
	"missing":      {Zh: "未提供", En: "Not provided"},
	"required":     {Zh: "（必需）", En: " (required)"},
	"trust":        {Zh: "信任数据", En: "Trust data"},
	"height":       {Zh: "区块高度", En: "block height"},
	"receipt":      {Zh: "访问凭据编号（已签名，将锚定上链）", En: "Access receipt (signed, anchored on the ledger)"},
	"form":         {Zh: "申请表", En: "Application form"},
	"verified":     {Zh: "以下信息来自已核验的电子证照，不可修改", En: "From verified credentials; cannot be edited"},
	"yours":        {Zh: "请填写", En: "Please fill in"},
	"location":     {Zh: "不动产坐落", En: "Property location"},
	"certificate":  {Zh: "不动产权证书号", En: "Property certificate number"},
	"phone":        {Zh: "联系电话", En: "Contact phone"},
	"submit":       {Zh: "提交申请", En: "Submit application"},
	"applied":      {Zh: "申请已提交，受理编号", En: "Application submitted, number"},
	"appliedNote":  {Zh: "已核验的信息已交由业务系统处理，本页面不再保留。", En: "The verified data went to the case system; this page no longer holds it."},
	"notfound":     {Zh: "页面不存在或已过期", En: "Not found or expired"},
	"unavailable":  {Zh: "服务暂不可用，请稍后再试", En: "Service unavailable; try again later"},
	"privacy":      {Zh: "本平台只读取登记范围内的信息；每次读取都会留下签名凭据并锚定在联盟链上，您可在钱包中查看。", En: "This portal reads only what its registration allows; every access leaves a signed receipt anchored on the ledger, visible in your wallet."},
	"department":   {Zh: "主办部门", En: "Department"},
	"registration": {Zh: "链上登记", En: "Ledger registration"},
}

var funcs = template.FuncMap{
	"t": func(lang, key string) string { return words[key].In(lang) },
	"tx": func(lang string, t any) string {
		switch x := t.(type) {
		case bilingual.Text:
			return x.In(lang)
		}
		return ""
	},
	// link marks the session's own openid4vp:// link safe for href (html/template allows only
	// http(s) and mailto by default); it is built by the portal, never taken from a request.
	"link": func(s string) template.URL {
		if strings.HasPrefix(s, "openid4vp://?") {
			return template.URL(s)
		}
		return ""
	},
	"other": func(lang string) string {
		if lang == "en" {
			return "zh"
		}
		return "en"
	},
	"code": func(lang string, c credential.Code) string { return credential.Message(c, lang) },
	"dept": func(view *verifier.View, lang, issuer string) string {
		if view != nil {
			if m, ok := view.Member(strings.TrimPrefix(issuer, "did:lz:")); ok {
				return bilingual.Text(m.Name).In(lang)
			}
		}
		return issuer
	},
	"typeName": func(view *verifier.View, lang, id string) string {
		if view != nil {
			if t, ok := view.Type(id); ok {
				return bilingual.Text(t.Name).In(lang)
			}
		}
		return id
	},
	"label": func(view *verifier.View, lang, typ, f string) string {
		if view != nil {
			if t, ok := view.Type(typ); ok {
				for _, c := range t.Claims {
					if c.Name == f {
						return bilingual.Text(c.Label).In(lang)
					}
				}
			}
		}
		return f
	},
	"time": func(t any) string {
		if x, ok := t.(interface{ Format(string) string }); ok {
			return x.Format("15:04:05")
		}
		return ""
	},
}

var pages = template.Must(template.New("").Funcs(funcs).Parse(`
{{define "head"}}<!DOCTYPE html>
<html lang="{{if eq .Lang "en"}}en{{else}}zh-Hans{{end}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{t .Lang "title"}}</title><link rel="stylesheet" href="/static/portal.css"></head>
<body><header><span class="brand">{{if .Service}}{{tx .Lang .Service.Name}}{{else}}{{t .Lang "title"}}{{end}}</span>
<a class="lang" id="lang" href="?lang={{other .Lang}}">{{t .Lang "switch"}}</a></header><main>{{end}}
{{define "foot"}}<p class="privacy">{{t .Lang "privacy"}}</p></main></body></html>{{end}}

{{define "index"}}{{template "head" .}}
<h1>{{t .Lang "items"}}</h1>
{{range .Service.ServiceItems}}<section class="card"><h2>{{tx $.Lang .Name}}</h2>
<p><b>{{t $.Lang "purpose"}}：</b>{{tx $.Lang .Purpose}}</p>
<a class="button" id="apply-{{.ID}}" href="/apply/{{.ID}}?lang={{$.Lang}}">{{t $.Lang "start"}}</a></section>{{end}}
{{template "foot" .}}{{end}}

{{define "error"}}{{template "head" .}}<section class="card refused"><h1>{{.Message}}</h1>
<a class="button" href="/?lang={{.Lang}}">{{t .Lang "again"}}</a></section>{{template "foot" .}}{{end}}

{{define "session"}}{{template "head" .}}{{$l := .Lang}}{{$v := .View}}{{$s := .S}}
<div id="session" data-state="{{$s.State}}" data-version="{{$s.Version}}" data-status="/s/{{$s.ID}}/status">
<h1>{{tx $l $s.Item.Name}}</h1>
<p><b>{{t $l "purpose"}}：</b>{{tx $l $s.Item.Purpose}}</p>
{{if eq $s.State "pending"}}
<section class="card" id="pending">
<p>{{t $l "asks"}}：</p><ul class="asks">{{range $s.Item.Requests}}{{$typ := .Type}}<li><b>{{typeName $v $l $typ}}</b>：{{range $i, $f := .Fields}}{{if $i}}、{{end}}{{label $v $l $typ $f}}{{end}}</li>{{end}}</ul>
<div class="qr"><img id="qr" src="/s/{{$s.ID}}/qr.png" alt="QR" width="300" height="300"><p>{{t $l "scan"}}</p></div>
<p>{{t $l "same"}} <a class="button" id="link" href="{{link $s.Link}}">{{t $l "open"}}</a></p>
<p id="wait" class="muted">{{if $s.Fetched}}{{t $l "fetched"}}{{else}}{{t $l "waiting"}}{{end}} · {{t $l "expires"}} {{time $s.Expires}}</p>
</section>
{{else if eq $s.State "expired"}}
<section class="card refused" id="expired"><h2>{{t $l "expired"}}</h2><a class="button" href="/apply/{{$s.Item.ID}}?lang={{$l}}">{{t $l "again"}}</a></section>
{{else}}{{$vd := $s.Verdict}}
<section class="card {{if $vd.OK}}ok{{else}}refused{{end}}" id="verdict" data-ok="{{$vd.OK}}" data-code="{{$vd.Code}}">
<h2>{{t $l "verdict"}}：{{tx $l $vd.Message}}</h2>
{{if not $vd.OK}}<p>{{t $l "reason"}}：<code id="code">{{$vd.Code}}</code></p>{{end}}
{{range $vd.Credentials}}<div class="cred {{if .OK}}ok{{else}}refused{{end}}">
<h3>{{tx $l .TypeName}}</h3>
<p>{{t $l "issuer"}}：{{dept $v $l .Issuer}} · {{t $l "status"}}：{{tx $l .Message}}{{if .Code}} (<code>{{.Code}}</code>){{end}}</p>
{{if .Fields}}<dl>{{range .Fields}}<dt>{{tx $l .Label}}</dt><dd>{{.Value}}</dd>{{end}}</dl>{{end}}
{{if .Missing}}<p>{{t $l "missing"}}：{{range $i, $m := .Missing}}{{if $i}}、{{end}}{{tx $l $m.Label}}{{if $m.Required}}{{t $l "required"}}{{end}}{{end}}</p>{{end}}
{{if .Hidden}}<p class="muted" id="hidden-{{.Type}}">{{.Hidden}} {{t $l "hidden"}}</p>{{end}}
</div>{{end}}
<p class="muted">{{t $l "trust"}}：{{$vd.Trust.Source}} · {{t $l "height"}} {{$vd.Trust.Height}}{{if $vd.ReceiptID}} · {{t $l "receipt"}}：<code id="receipt">{{$vd.ReceiptID}}</code>{{end}}</p>
{{if not $vd.OK}}<a class="button" href="/apply/{{$s.Item.ID}}?lang={{$l}}">{{t $l "again"}}</a>{{end}}
</section>
{{if $s.Applied}}<section class="card ok" id="applied"><h2>{{t $l "applied"}} <span id="number">{{$s.Applied}}</span></h2><p>{{t $l "appliedNote"}}</p></section>
{{else if $vd.OK}}
<form class="card" id="form" method="post" action="/s/{{$s.ID}}/submit?lang={{$l}}">
<h2>{{t $l "form"}}</h2><p class="muted">{{t $l "verified"}}</p>
{{range $vd.Credentials}}{{$typ := .Type}}<fieldset><legend>{{tx $l .TypeName}}</legend>
{{range .Fields}}<label>{{tx $l .Label}}<input name="{{$typ}}.{{.Name}}" value="{{.Value}}" readonly></label>{{end}}</fieldset>{{end}}
<fieldset><legend>{{t $l "yours"}}</legend>
<label>{{t $l "location"}}<input name="property_location" maxlength="200"></label>
<label>{{t $l "certificate"}}<input name="property_certificate" maxlength="64"></label>
<label>{{t $l "phone"}}<input name="phone" maxlength="32" inputmode="tel"></label></fieldset>
<button type="submit" class="button" id="submit">{{t $l "submit"}}</button></form>
{{end}}{{end}}
</div><script src="/static/portal.js"></script>
{{template "foot" .}}{{end}}
`))

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data map[string]any) {
	data["Lang"] = lang(r)
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("page not rendered", "page", name, "err", err.Error())
		http.Error(w, "page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, c credential.Code) {
	msg := words["notfound"].In(lang(r))
	if status == http.StatusServiceUnavailable {
		msg = words["unavailable"].In(lang(r))
	}
	if c != "" {
		msg = credential.Message(c, lang(r))
	}
	var buf bytes.Buffer
	_ = pages.ExecuteTemplate(&buf, "error", map[string]any{"Lang": lang(r), "Message": msg})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
