package oidcdev

// loginPage lists the test users, one "Log in as" button each. It stands in
// for the IdP's SITHS card prompt and its choice of care assignment.
const loginPage = `<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Nära – lokal inloggning (OIDC)</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1d1d1f; }
 h1 { font-size: 1.5rem; margin-bottom: .25rem; }
 .note { color: #555; margin-top: 0; }
 table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
 th, td { text-align: left; vertical-align: top; padding: .6rem .5rem; border-bottom: 1px solid #ddd; }
 th { font-size: .85rem; color: #555; }
 .hsa { font-family: ui-monospace, monospace; font-size: .85rem; color: #444; }
 .about { font-size: .85rem; color: #555; }
 ul { margin: 0; padding-left: 1rem; font-size: .85rem; }
 button { padding: .45rem .9rem; border-radius: .4rem; border: 1px solid #0b5cad; background: #0b5cad; color: #fff; cursor: pointer; white-space: nowrap; }
 button.cancel { background: #fff; color: #0b5cad; margin-top: 1.5rem; }
</style>
</head>
<body>
<h1>Lokal inloggning för Nära</h1>
<p class="note">A local stand-in for the region's identity provider (SITHS), at {{.Issuer}}.
Client <b>{{.ClientID}}</b> asks you to log in; you will be sent back to {{.Redirect}}.
Choose a test user.</p>
<table>
<thead><tr><th>Person</th><th>Care assignments (medarbetaruppdrag)</th><th>Roles</th><th></th></tr></thead>
<tbody>
{{range .Users}}
<tr>
 <td><b>{{.Name}}</b>{{if .Title}}, {{.Title}}{{end}}<br><span class="hsa">{{.HSAID}}</span><br><span class="about">{{.About}}</span></td>
 <td>{{if .Assignments}}<ul>{{range .Assignments}}<li>{{.CareUnitName}} <span class="hsa">{{.CareUnitHSAID}}</span><br>{{.Purpose}}{{if not .ValidTo.IsZero}}, until {{.ValidTo.Format "2006-01-02"}}{{end}}</li>{{end}}</ul>{{else}}none{{end}}</td>
 <td>{{range .Roles}}{{.}}<br>{{else}}–{{end}}</td>
 <td><form method="post" action="{{$.Action}}"><input type="hidden" name="request" value="{{$.Request}}"><input type="hidden" name="hsa_id" value="{{.HSAID}}"><button type="submit">Log in as {{.GivenName}}</button></form></td>
</tr>
{{end}}
</tbody>
</table>
<form method="post" action="{{.Action}}"><input type="hidden" name="request" value="{{.Request}}"><button class="cancel" type="submit" name="cancel" value="1">Cancel</button></form>
</body>
</html>
`
