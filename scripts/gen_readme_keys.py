# Regenerates the README "## Keys" tables from src/app/keymap.rs (run from the repository root).
import re
s=open('src/app/keymap.rs').read()
s=re.sub(r'\s+',' ',s)
rows=re.findall(r'b\( ?(\w+), &\[((?:"[^"]*",? ?)*)\], A::\w+, "([^"]*)", "[^"]*",? ?\)', s)
ctxnames={'Global':'Everywhere','Environments':'Environments pane','EnvEditor':'Environment variables (e on an environment)','Collections':'Collections pane','Request':'Request pane','Response':'Response pane'}
out=[]
for c in ['Global','Environments','EnvEditor','Collections','Request','Response']:
    out.append(f"**{ctxnames[c]}**\n\n| keys | does |\n|---|---|")
    for ctx,keys,help_ in rows:
        if ctx==c:
            ks=", ".join("`"+k+"`" for k in re.findall(r'"([^"]*)"',keys))
            out.append(f"| {ks} | {help_} |")
    out.append("")
keys="\n".join(out)
r=open('README.md').read()
i=r.index('## Keys\n')+len('## Keys\n\n')
j=r.index('While the URL or the body is being edited')
r=r[:i]+keys+"\n"+r[j:]
open('README.md','w').write(r)
print(len(rows))
