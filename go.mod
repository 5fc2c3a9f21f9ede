module carafe

go 1.26
